package notify

import (
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Agencies of the test configuration.
const (
	hoaBinh = "000.05.31.H99" // two departments, two office people
	tanPhu  = "000.05.31.H98" // one department, one office person
	noStaff = "000.05.31.H97" // no departments, no office
)

// testYAML is a full valid configuration in the shape of
// config/dvcwatch.example.yaml; notify.escalation is left out so the default
// ladder (config.DefaultEscalation) applies.
const testYAML = `
calendar:
  office_hours: ["07:30-11:30", "13:30-17:00"]
  cutoff: "17:00"
agencies:
  - code: "000.05.31.H99"
    name: UBND xã Hòa Bình
    departments:
      - code: VHXH
        name: Phòng Văn hóa – Xã hội
        head: tran.thi.b
      - code: KT
        name: Phòng Kinh tế
        head: le.van.d
    officials:
      - id: nguyen.van.a
        name: Nguyễn Văn A
        title: Công chức Văn hóa – Xã hội
        email: nguyen.van.a@hoabinh.example
        department: VHXH
      - id: tran.thi.b
        name: Trần Thị B
        title: Trưởng phòng Văn hóa – Xã hội
        email: tran.thi.b@hoabinh.example
        role: department_head
        department: VHXH
      - id: pham.van.c
        name: Phạm Văn C
        title: Công chức Địa chính – Xây dựng
        email: pham.van.c@hoabinh.example
        role: official
        department: KT
      - id: le.van.d
        name: Lê Văn D
        title: Trưởng phòng Kinh tế
        email: le.van.d@hoabinh.example
        role: department_head
        department: KT
      - id: van.phong
        name: Văn phòng HĐND và UBND xã
        title: Chánh Văn phòng
        email: vanphong@hoabinh.example
        role: office
      - id: pho.van.phong
        name: Phó Văn phòng
        title: Phó Chánh Văn phòng
        email: phovanphong@hoabinh.example
        role: office
  - code: "000.05.31.H98"
    name: UBND xã Tân Phú
    departments:
      - code: TP
        name: Tư pháp – Hộ tịch
        head: hoang.minh.duc
    officials:
      - id: hoang.minh.duc
        name: Hoàng Minh Đức
        email: hoang.minh.duc@tanphu.example
        role: department_head
        department: TP
      - id: le.van.cuong
        name: Lê Văn Cường
        email: le.van.cuong@tanphu.example
        department: TP
      - id: vanphong.tanphu
        name: Văn phòng UBND xã Tân Phú
        email: vanphong@tanphu.example
        role: office
  - code: "000.05.31.H97"
    name: UBND xã Không Người
procedures:
  - {code: "1.001193", name: "Đăng ký khai sinh", limit: 1wd}
notify:
  dossier_url: https://motcua.example/ho-so/{code}
  repeat_after: 24h
  office_hours_only: true
smtp:
  host: smtp.hoabinh.example
  port: 587
  from: "Cảnh báo hồ sơ – UBND xã Hòa Bình <canhbao@hoabinh.example>"
  tls: starttls
  timeout: 20s
admin:
  listen: 127.0.0.1:8080
  tokens:
    - {name: vanphong, role: operator, token: 0123456789abcdef-operator}
    - {name: it-admin, role: admin, token: 0123456789abcdef-admin}
log:
  level: info
  format: text
`

// testConfig parses testYAML and lets the test change what validation would
// refuse (a department without a head, a person without an email) before the
// directory is built from it.
func testConfig(t *testing.T, mutate func(*config.Config)) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(testYAML), "test.yaml")
	if err != nil {
		t.Fatalf("parse test configuration: %v", err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

func testDirectory(t *testing.T, mutate func(*config.Config)) *directory.Directory {
	t.Helper()
	dir, err := directory.New(testConfig(t, mutate))
	if err != nil {
		t.Fatalf("directory.New: %v", err)
	}
	return dir
}

// official returns a pointer to the official id of cfg, for mutations.
func official(t *testing.T, cfg *config.Config, id string) *config.Official {
	t.Helper()
	for i := range cfg.Agencies {
		for j := range cfg.Agencies[i].Officials {
			if o := &cfg.Agencies[i].Officials[j]; o.ID == id {
				return o
			}
		}
	}
	t.Fatalf("no official %q in the test configuration", id)
	return nil
}

// department returns a pointer to a department of cfg, for mutations.
func department(t *testing.T, cfg *config.Config, agency, code string) *config.Department {
	t.Helper()
	for i := range cfg.Agencies {
		if cfg.Agencies[i].Code != agency {
			continue
		}
		for j := range cfg.Agencies[i].Departments {
			if d := &cfg.Agencies[i].Departments[j]; d.Code == code {
				return d
			}
		}
	}
	t.Fatalf("no department %s/%s in the test configuration", agency, code)
	return nil
}

// vn is a wall-clock time in Vietnam.
func vn(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, sla.Location())
}

// weekday fails the test unless t falls on want, so a date picked for its
// weekday cannot silently be wrong.
func weekday(t *testing.T, at time.Time, want time.Weekday) time.Time {
	t.Helper()
	if got := at.Weekday(); got != want {
		t.Fatalf("%s is a %s, not a %s", at.Format(time.DateOnly), got, want)
	}
	return at
}

// breach is an actionable breach of the Hòa Bình commune.
func breach(id int64, kind dvcwatch.BreachKind, sev dvcwatch.Severity, official, dept string, due time.Time) dvcwatch.StoredBreach {
	return dvcwatch.StoredBreach{
		ID: id,
		Breach: dvcwatch.Breach{
			Kind: kind, Key: dvcwatch.DossierKey{Source: "onestop", Code: "000.05.31.H99-260301-0001"},
			Official: official, Department: dept, Severity: sev, StartedAt: due, DueAt: due,
		},
		Agency: hoaBinh, Actionable: true,
	}
}
