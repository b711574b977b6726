package email

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var hcm = time.FixedZone("ICT", 7*3600)

// digest is a recipient's morning mail: three overdue dossiers given out of
// order (one of them with a second breach) and one due soon, with personal
// data that must not leak.
func digest() Digest {
	overdue := func(sev dvcwatch.Severity) []Tag { return []Tag{{Kind: dvcwatch.BreachOverdue, Severity: sev}} }
	return Digest{
		Recipient: Recipient{Name: "Trần Thị Bình", Email: "binh@ubnd.example.vn", Role: dvcwatch.RoleDepartmentHead},
		Agency:    "UBND xã Tân Phú", Prefix: "UBND Tân Phú", AsOf: time.Date(2026, 3, 4, 8, 30, 0, 0, hcm),
		Rows: []Row{
			{
				Code: "000.00.20.H01-260304-0004", Procedure: "Đăng ký khai sinh",
				Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
				DueAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), HoursLeft: 6 * time.Hour,
				Tags: []Tag{{Kind: dvcwatch.BreachDueSoon, Severity: dvcwatch.SeverityInfo}},
				Link: "https://motcua.example.vn/hoso/0004", ApplicantName: "Phạm Thị Dung", ApplicantPhone: "0987 654 321",
			},
			{
				Code: "000.00.20.H01-260301-0002", Procedure: "Chứng thực bản sao từ bản chính",
				Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
				DueAt: time.Date(2026, 3, 3, 9, 0, 0, 0, hcm), LateDays: 1, Tags: overdue(dvcwatch.SeverityWarning),
				Link:          "https://motcua.example.vn/hoso/0002?a=1&b=2",
				ApplicantName: "Đặng Thị Ánh", ApplicantPhone: "+84 912 345 678",
			},
			{
				Code: "000.00.20.H01-260225-0001", Procedure: "Cấp giấy phép xây dựng nhà ở riêng lẻ",
				Department: "Địa chính – Xây dựng", Official: "Hoàng Minh Đức",
				// 10:00 UTC is 17:00 in Hà Nội: the date must be the local one.
				DueAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), LateDays: 2,
				Tags: append(overdue(dvcwatch.SeverityCritical), Tag{Kind: dvcwatch.BreachNoApology, Severity: dvcwatch.SeverityWarning},
					Tag{Kind: dvcwatch.BreachStepOverdue, Severity: dvcwatch.SeverityWarning, Step: 2}),
				Link: "https://motcua.example.vn/hoso/0001", Console: "https://dvcwatch.example.vn/#/dossiers/0001",
				AckLink:       "https://dvcwatch.example.vn/ack/abc",
				ApplicantName: "Nguyễn Văn An", ApplicantPhone: "0912345789",
			},
			{
				Code: "000.00.20.H01-260301-0003", Procedure: "Đăng ký kết hôn <trong nước>",
				Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
				DueAt: time.Date(2026, 3, 3, 9, 0, 0, 0, hcm), LateDays: 1, Tags: overdue(dvcwatch.SeverityCritical),
				ApplicantName: "Võ Thị Én", ApplicantPhone: "0905111222",
			},
		},
	}
}

// personal lists every piece of personal data in digest(), in the forms a
// careless template could print it.
var personal = []string{
	"Phạm Thị Dung", "Phạm", "Dung", "0987 654 321", "0987654321", "654",
	"Đặng Thị Ánh", "Đặng", "Ánh", "+84 912 345 678", "912345678", "0912 345",
	"Nguyễn Văn An", "Nguyễn", "0912345789", "0912345",
	"Võ Thị Én", "Võ", "0905111222", "0905",
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	subject, text, html, err := Render(digest())
	if err != nil {
		t.Fatal(err)
	}
	const wantSubject = "[UBND Tân Phú] 4 hồ sơ cần xử lý: 3 quá hạn, 1 trễ hạn chưa có văn bản xin lỗi, 1 bước xử lý quá hạn, 1 sắp đến hạn — hạn sớm nhất 02/03/2026"
	if subject != wantSubject {
		t.Errorf("subject\n got %q\nwant %q", subject, wantSubject)
	}
	golden(t, "digest.txt.golden", text)
	golden(t, "digest.html.golden", html)

	for _, out := range []string{subject, text, html} {
		for _, p := range personal {
			if strings.Contains(out, p) {
				t.Errorf("output contains personal data %q", p)
			}
		}
	}
	for _, masked := range []string{"N. V. A.", "*******789", "Đ. T. Á.", "********678", "P. T. D.", "*******321"} {
		if !strings.Contains(text, masked) || !strings.Contains(html, masked) {
			t.Errorf("masked %q missing from text or html", masked)
		}
	}
	// Most urgent first: 2 working days late, then the two 1 day late with the
	// critical one before the warning, then the one due soon.
	order := []string{"260225-0001", "260301-0003", "260301-0002", "260304-0004"}
	for _, out := range []string{text, html} {
		last := -1
		for _, code := range order {
			i := strings.Index(out, code)
			if i < last {
				t.Errorf("%s out of order", code)
			}
			last = i
		}
	}
	if !strings.Contains(html, `<a href="https://motcua.example.vn/hoso/0002?a=1&amp;b=2" style="color: #1d4ed8;">000.00.20.H01-260301-0002</a>`) {
		t.Error("html: dossier code not linked to its escaped Link")
	}
	if !strings.Contains(html, "Đăng ký kết hôn &lt;trong nước&gt;") {
		t.Error("html: procedure name not escaped")
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", name, got)
	}
}

func TestRenderSubject(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	row := func(code string, due time.Time, kinds ...dvcwatch.BreachKind) Row {
		r := Row{Code: code, DueAt: due}
		for _, k := range kinds {
			r.Tags = append(r.Tags, Tag{Kind: k, Severity: dvcwatch.SeverityWarning})
		}
		return r
	}
	tests := []struct {
		name string
		d    Digest
		want string
	}{
		{"one kind", Digest{Agency: "UBND xã Hòa Bình", Rows: []Row{row("A", due, dvcwatch.BreachOverdue)}},
			"[UBND xã Hòa Bình] 1 hồ sơ cần xử lý: 1 quá hạn — hạn sớm nhất 02/03/2026"},
		{"a prefix of its own", Digest{Agency: "UBND xã Hòa Bình", Prefix: "HB", Rows: []Row{
			row("B", due.Add(48*time.Hour), dvcwatch.BreachDueSoon), row("A", due.Add(24*time.Hour), dvcwatch.BreachDueSoon)}},
			"[HB] 2 hồ sơ cần xử lý: 2 sắp đến hạn — hạn sớm nhất 03/03/2026"},
		{"no due date, no agency", Digest{Rows: []Row{row("A", time.Time{}, "stalled")}},
			"[dvcwatch] 1 hồ sơ cần xử lý: 1 stalled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, _, err := Render(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderEmpty(t *testing.T) {
	t.Parallel()
	if _, _, _, err := Render(Digest{}); err == nil {
		t.Fatal("no error for a digest without rows")
	}
}

func TestRendererOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, TextFile, "{{range .Rows}}{{.Code}} {{.Applicant}} {{.Phone}}\n{{end}}")
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := r.Render(digest())
	if err != nil {
		t.Fatal(err)
	}
	want := "000.00.20.H01-260225-0001 N. V. A. *******789\n" +
		"000.00.20.H01-260301-0003 V. T. É. *******222\n" +
		"000.00.20.H01-260301-0002 Đ. T. Á. ********678\n" +
		"000.00.20.H01-260304-0004 P. T. D. *******321\n"
	if text != want {
		t.Errorf("overridden text\n got %q\nwant %q", text, want)
	}
	// subject.tmpl and html.tmpl are missing from dir: the defaults apply.
	def, _, defHTML, _ := Render(digest())
	if subject != def || html != defHTML {
		t.Error("a template missing from the override directory did not fall back to the default")
	}
}

func TestRendererOverrideErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, content string
		want                []string // substrings of the error
	}{
		{"text parse", TextFile, "Kính gửi\n{{.Recipient.Name}\n", []string{TextFile + ":2:", "parse email template"}},
		{"html parse", HTMLFile, "<p>\n\n{{range .Rows}}</p>", []string{HTMLFile + ":3:", "parse email template"}},
		{"subject parse", SubjectFile, "{{if}}", []string{SubjectFile + ":1:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, dir, tt.file, tt.content)
			_, err := NewRenderer(dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.want, filepath.Join(dir, tt.file)) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	t.Run("unknown field at render", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		// Templates cannot reach the raw applicant data, even by its Row name.
		write(t, dir, HTMLFile, "{{range .Rows}}{{.ApplicantName}}{{end}}")
		r, err := NewRenderer(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, err = r.Render(digest())
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, HTMLFile)) {
			t.Fatalf("got %v, want an error naming %s", err, HTMLFile)
		}
	})
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMaskName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Nguyễn Văn An", "N. V. A."},
		{"Đặng Thị Ánh", "Đ. T. Á."},
		{"đỗ ưng ơn", "Đ. Ư. Ơ."},
		{"  Trần   Thị\tBình ", "T. T. B."},
		{"A\u0301nh Nguye\u0302\u0303n", "A\u0301. N."}, // decomposed (NFD) input keeps its marks
		{"Ông Ích Khiêm", "Ô. Í. K."},
		{"Công ty TNHH Xây dựng (Hà Nội)", "C. T. T. X. D. H. N."},
		{"", ""},
		{"  - ", ""},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"0912345789", "*******789"},
		{"0912 345 789", "*******789"},
		{"+84 (912) 345-789", "********789"},
		{"024.3825.1234", "********234"},
		{"1234", "*234"},
		{"113", "***"},
		{"", ""},
		{"không có", ""},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLowerFirst(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Quá hạn": "quá hạn", "Ứ đọng": "ứ đọng", "HĐND": "HĐND", "": ""} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRenderCapsTheList: a digest of more dossiers than MaxRows lists the
// most urgent, counts them all in the subject and the text, says how many
// more there are and where to see them, and counts them per department.
func TestRenderCapsTheList(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	d := Digest{Recipient: Recipient{Name: "Văn phòng", Email: "vp@x.example", Role: dvcwatch.RoleOffice},
		Agency: "UBND xã Hòa Bình", ListURL: "https://dvcwatch.example/#/breaches?recipient=vp"}
	for i := range 250 {
		d.Rows = append(d.Rows, Row{Code: fmt.Sprintf("H99-%04d", i), DueAt: due.Add(time.Duration(i) * time.Minute),
			Department: []string{"Tư pháp", "Kinh tế"}[i%2],
			Tags:       []Tag{{Kind: dvcwatch.BreachOverdue, Severity: dvcwatch.SeverityWarning}}})
	}
	subject, text, html, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "250 hồ sơ cần xử lý: 250 quá hạn") {
		t.Errorf("subject %q should count all 250", subject)
	}
	for name, out := range map[string]string{"text": text, "html": html} {
		if !strings.Contains(out, "220</strong> hồ sơ khác") && !strings.Contains(out, "và 220 hồ sơ khác") {
			t.Errorf("%s: want the 220 not listed mentioned", name)
		}
		if !strings.Contains(out, "Tư pháp: 125") || !strings.Contains(out, "Kinh tế: 125") ||
			!strings.Contains(out, "https://dvcwatch.example/#/breaches?recipient=vp") {
			t.Errorf("%s: want the counts per department and the console's list", name)
		}
		if !strings.Contains(out, "H99-0029") || strings.Contains(out, "H99-0030") {
			t.Errorf("%s: want the %d most urgent listed and no more", name, DefaultMaxRows)
		}
	}
}

// TestDigestAddKeepsTheMostUrgent: a digest built row by row with Add holds
// only MaxRows rows and renders exactly the email of the same rows given at
// once: the counts per kind (a dossier with two kinds once under each) and
// per department, the total and the rows left out cover every row added, and
// the rows listed are the most urgent, whatever order they were added in.
func TestDigestAddKeepsTheMostUrgent(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var rows []Row
	for i := range 400 {
		r := Row{Code: fmt.Sprintf("H99-%04d", i), Department: []string{"Tư pháp", "Kinh tế", ""}[i%3],
			Tags: []Tag{{Kind: dvcwatch.BreachDueSoon, Severity: dvcwatch.SeverityInfo}}}
		switch i % 4 {
		case 0: // late: by how many days, then by due
			r.LateDays, r.DueAt = i%7+1, due.Add(time.Duration(i)*time.Minute)
			r.Tags = []Tag{{Kind: dvcwatch.BreachOverdue, Severity: dvcwatch.SeverityWarning},
				{Kind: dvcwatch.BreachStepOverdue, Severity: dvcwatch.SeverityWarning, Step: 2},
				{Kind: dvcwatch.BreachStepOverdue, Severity: dvcwatch.SeverityWarning, Step: 3}}
		case 1: // due soon
			r.DueAt, r.HoursLeft = due.Add(time.Duration(i)*time.Hour), time.Hour
		case 2: // no due at all: last
			r.Tags = []Tag{{Kind: dvcwatch.BreachNotSynced, Severity: dvcwatch.SeverityWarning}}
		}
		rows = append(rows, r)
	}
	whole := Digest{Recipient: Recipient{Name: "Văn phòng", Email: "vp@x.example", Role: dvcwatch.RoleOffice},
		Agency: "UBND xã Hòa Bình", MaxRows: 25, Rows: rows}
	added := whole
	added.Rows = nil
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(rows)) {
		added.Add(rows[i])
		if len(added.Rows) > added.MaxRows {
			t.Fatalf("the digest holds %d rows, more than MaxRows %d", len(added.Rows), added.MaxRows)
		}
	}
	if added.Total() != len(rows) {
		t.Errorf("Total %d, want %d", added.Total(), len(rows))
	}
	ws, wt, wh, err := Render(whole)
	if err != nil {
		t.Fatal(err)
	}
	as, at, ah, err := Render(added)
	if err != nil {
		t.Fatal(err)
	}
	if as != ws || at != wt || ah != wh {
		t.Errorf("the digest built by Add renders otherwise:\nsubject %q\n   want %q\ntext:\n%s\nwant:\n%s", as, ws, at, wt)
	}
	for _, want := range []string{"400 hồ sơ", "100 quá hạn", "375 hồ sơ khác", "Tư pháp: 134", "Kinh tế: 133", "Chưa rõ phòng ban: 133"} {
		if !strings.Contains(at, want) {
			t.Errorf("text lacks %q:\n%s", want, at)
		}
	}
}

// TestRenderStaysUnderTheBudget: rows of extreme length are listed fewer
// rather than clipped by mail clients.
func TestRenderStaysUnderTheBudget(t *testing.T) {
	t.Parallel()
	d := Digest{Agency: "UBND xã Hòa Bình", MaxRows: 200}
	for i := range 200 {
		d.Rows = append(d.Rows, Row{Code: fmt.Sprintf("H99-%04d", i), Procedure: strings.Repeat("Thủ tục rất dài ", 60),
			Tags: []Tag{{Kind: dvcwatch.BreachOverdue, Severity: dvcwatch.SeverityWarning}}, LateDays: i})
	}
	_, _, html, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(html) > MaxHTMLBytes || !strings.Contains(html, "H99-0199") {
		t.Errorf("html of %d bytes (budget %d), the most late listed: %v", len(html), MaxHTMLBytes, strings.Contains(html, "H99-0199"))
	}
}

func TestMasker(t *testing.T) {
	t.Parallel()
	m := NewMasker(dvcwatch.Applicant{Name: "Nguyễn Thị Hoa", Phone: "0912 345 678", Email: "hoa.nguyen@example.vn", IDNumber: "001190012345"})
	tests := []struct{ in, want string }{
		{"Tiếp nhận hồ sơ của bà Nguyễn Thị Hoa, điện thoại 0912345678", "Tiếp nhận hồ sơ của bà N. T. H., điện thoại *******678"},
		{"gọi 0912 345 678 hoặc thư HOA.NGUYEN@example.vn", "gọi *******678 hoặc thư ***"},
		{"CCCD 001190012345 của nguyễn thị hoa", "CCCD *** của N. T. H."},
		{"Hòa Bình", "Hòa Bình"},
	}
	for _, tc := range tests {
		if got := m.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := NewMasker(dvcwatch.Applicant{Name: "An"}).Text("An ninh"); got != "An ninh" {
		t.Errorf("a two-letter name masks ordinary words: %q", got)
	}
}
