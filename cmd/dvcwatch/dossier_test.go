package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

// dossierConfig is a commune with a 5-working-day procedure, its one-stop
// system and the national portal mirroring it, on a SQLite file.
func dossierConfig(t *testing.T) (path, dsn string) {
	t.Helper()
	dir := t.TempDir()
	dsn = filepath.Join(dir, "dvcwatch.db")
	path = filepath.Join(dir, "dvcwatch.yaml")
	write(t, path, `database:
  dsn: `+dsn+`
connectors:
  - {name: dvcqg, kind: dvcqg, base_url: "https://dvcqg.example/api", username: u, password: p, agency_code: "000.05.31.H99", mirror_of: onestop}
  - {name: onestop, kind: onestop, base_url: "https://motcua.example", username: u, password: p}
agencies:
  - code: "000.05.31.H99"
    name: UBND xã Hòa Bình
    departments:
      - {code: KT, name: Phòng Kinh tế, head: le.van.d}
    officials:
      - {id: pham.van.c, name: Phạm Văn C, email: pham.van.c@hoabinh.example, department: KT}
      - {id: le.van.d, name: Lê Văn D, email: le.van.d@hoabinh.example, role: department_head, department: KT}
      - {id: van.phong, name: Văn phòng HĐND và UBND xã, email: vanphong@hoabinh.example, role: office}
procedures:
  - {code: "2.000488", name: "Chứng thực bản sao từ bản chính", limit: 5wd}
smtp:
  host: 127.0.0.1
  from: canhbao@hoabinh.example
  tls: none
admin:
  tokens:
    - {name: ops, role: admin, token: 0123456789abcdef}
log:
  level: error
`)
	return path, dsn
}

// TestDossierShow: a dossier received on Thursday 23 April 2026 without an
// appointment, overdue on 7 May, printed with the due explained in the words
// of calendar due, the applicant masked, its steps, breaches and emails.
func TestDossierShow(t *testing.T) {
	cfg, dsn := dossierConfig(t)
	const code = "000.05.31.H99-260423-0001"
	vn := func(m time.Month, d, h, min int) time.Time {
		return time.Date(2026, m, d, h, min, 0, 0, sla.Location())
	}
	d := dvcwatch.Dossier{
		Key: dvcwatch.DossierKey{Source: "onestop", Code: code}, ProcedureCode: "2.000488", ProcedureName: "Chứng thực bản sao từ bản chính",
		Agency: "000.05.31.H99", Channel: dvcwatch.ChannelOnline, ApplicantKind: dvcwatch.ApplicantCitizen,
		Applicant:  dvcwatch.Applicant{Name: "Nguyễn Thị Hoa", Phone: "0912 345 678", Email: "hoa.nguyen@example.vn", IDNumber: "001190012345"},
		ReceivedAt: vn(4, 23, 9, 0), Status: dvcwatch.StatusInProgress, SourceUpdatedAt: vn(4, 24, 8, 0),
		Steps: []dvcwatch.Step{{Seq: 1, Official: "Phạm Văn C", Content: "Hồ sơ của bà Nguyễn Thị Hoa", StartedAt: vn(4, 24, 8, 0),
			FinishedAt: vn(4, 24, 8, 0)}},
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.DriverSQLite, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{"dvcqg", "onestop"} {
		d.Key.Source = source
		if _, err := db.ApplyPage(ctx, store.Page{Source: source, Dossiers: []dvcwatch.Dossier{d}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if out, errOut, status := run(t, "detect", "run", "--config", cfg, "--now", "2026-05-07 09:00"); status != 0 {
		t.Fatalf("detect run: status %d\n%s\n%s", status, out, errOut)
	}

	out, errOut, status := run(t, "dossier", "show", strings.ToLower(code), "--config", cfg)
	if status != 0 {
		t.Fatalf("dossier show: status %d\n%s\n%s", status, out, errOut)
	}
	for _, raw := range []string{"Nguyễn Thị Hoa", "0912 345 678", "0912345678", "hoa.nguyen@example.vn", "001190012345"} {
		if strings.Contains(out, raw) {
			t.Errorf("the output shows the applicant's %q:\n%s", raw, out)
		}
	}
	for _, want := range []string{
		"dossier: onestop/" + code + " (also in dvcqg: --source dvcqg)\n", // the source of truth first
		"agency: UBND xã Hòa Bình [000.05.31.H99]\n",
		"applicant: Công dân, N. T. H., *******678 (masked)\n",
		"appointment: none on the receipt\n",
		"judged against: 2026-05-05 17:00, the computed legal due (the portal gave no appointment); lateness compared by date (finished on the due date is on time)\n",
		"  1. no appointment on the receipt: the legal due 5wd counted from the receipt 2026-04-23 09:00: 2026-05-05 17:00\n",
		"  2026-04-24 08:00  first seen: 4 Đang xử lý\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	for _, re := range []string{
		`(?m)^  1\*\s+Phạm Văn C \[pham.van.c\]\s+Phòng Kinh tế \[KT\]\s+2026-04-24 08:00\s+-\s+-\s+1$`,
		`(?m)^  \d+\s+overdue\s+warning\s+-\s+Phạm Văn C \[pham.van.c\]\s+Phòng Kinh tế \[KT\]\s+2026-05-05 17:00\s+2026-05-07 09:00\s+-\s+-$`,
		`(?m)^  \d+\s+alerts\s+Lê Văn D \[le.van.d\]\s+pending\s+2026-05-07 09:00\s+-\s+[\d,]+\s+\[UBND xã Hòa Bình\] `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the output lacks a line matching %s:\n%s", re, out)
		}
	}

	// The legal due in the very words of calendar due.
	due, _, status := run(t, "calendar", "due", "--config", cfg, "--agency", "000.05.31.H99", "--received", "2026-04-23 09:00", "--limit", "5wd")
	if status != 0 || !strings.Contains(due, "skipped (not counted): 2026-04-27 (Monday) compensatory: Nghỉ bù Giỗ Tổ Hùng Vương") {
		t.Fatalf("calendar due: status %d\n%s", status, due)
	}
	head := `legal due, counted from the receipt (dvcwatch calendar due --config FILE --agency 000.05.31.H99 --received "2026-04-23 09:00" --limit 5wd prints the same):` + "\n"
	if !strings.Contains(out, head+due+"\n") {
		t.Errorf("the output lacks the legal due as calendar due prints it:\n%s\nwant:\n%s%s", out, head, due)
	}

	// The mirror's copy on request; what is not there, exit 2 with where it is.
	if out, _, status := run(t, "dossier", "show", code, "--source", "dvcqg", "--config", cfg); status != 0 ||
		!strings.HasPrefix(out, "dossier: dvcqg/"+code+" (also in onestop: --source onestop)\n") {
		t.Errorf("--source dvcqg: status %d\n%s", status, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dossier", "show", "KHONG-CO", "--config", cfg}, `dossier "KHONG-CO": not found in any source`},
		{[]string{"dossier", "show", code, "--source", "portal", "--config", cfg},
			`--source "portal": unknown source (want one of: dvcqg, onestop)`},
		{[]string{"dossier", "show", code, "--source", "dvcqgg", "--config", cfg},
			`--source "dvcqgg": unknown source (did you mean "dvcqg"? want one of: dvcqg, onestop)`},
		{[]string{"dossier", "show", "--config", cfg}, "dossier show: want one dossier code (MaHoSo), got 0 arguments"},
	} {
		_, errOut, status := run(t, c.args...)
		if status != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, error %q; want %d and %q", c.args, status, errOut, exitUsage, c.want)
		}
	}
}
