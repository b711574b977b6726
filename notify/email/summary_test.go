package email

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dvcwatch/dvcwatch"
)

// summary is the office's summary of 28/11/2026: three departments, one with
// nothing late, and four dossiers given out of order; the personal data must
// not leak.
func summary() Summary {
	tag := func(k dvcwatch.BreachKind, sev dvcwatch.Severity) Tag { return Tag{Kind: k, Severity: sev} }
	return Summary{
		Recipient: Recipient{Name: "Văn phòng HĐND và UBND", Email: "vanphong@ubnd.example.vn", Role: dvcwatch.RoleOffice},
		Agency:    "UBND xã Tân Phú", Prefix: "UBND Tân Phú",
		// 17:30 UTC on the 27th is 00:30 on the 28th in Hà Nội: the day shown is the 28th.
		Date: time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC), AsOf: time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC),
		Since: time.Date(2026, 11, 27, 0, 35, 0, 0, time.UTC),
		Departments: []DepartmentSummary{
			{Name: "Tư pháp – Hộ tịch", Overdue: 2, New: 1, MissingApology: 1},
			{Name: "Văn hóa – Xã hội"},
			{Name: "Địa chính – Xây dựng", Overdue: 1, DueSoon: 1, New: 2},
		},
		Rows: []Row{
			{Code: "000.00.20.H01-261120-0012", Procedure: "Chứng thực bản sao từ bản chính", Department: "Tư pháp – Hộ tịch",
				Official: "Lê Văn Cường", DueAt: time.Date(2026, 11, 26, 17, 0, 0, 0, hcm), LateDays: 1, New: true,
				Tags: []Tag{tag(dvcwatch.BreachOverdue, dvcwatch.SeverityWarning)}, Link: "https://motcua.example.vn/hoso/0012?a=1&b=2",
				ApplicantName: "Bùi Quang Hải", ApplicantPhone: "0976 111 808"},
			{Code: "000.00.20.H01-261118-0011", Procedure: "Đăng ký kết hôn <trong nước>", Department: "Tư pháp – Hộ tịch",
				Official: "Lê Văn Cường", DueAt: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), LateDays: 2,
				Tags:          []Tag{tag(dvcwatch.BreachOverdue, dvcwatch.SeverityCritical), tag(dvcwatch.BreachNoApology, dvcwatch.SeverityWarning)},
				ApplicantName: "Lý Thị Mai", ApplicantPhone: "0933 222 919"},
			{Code: "000.00.20.H01-261105-0003", Procedure: "Cấp giấy chứng nhận quyền sử dụng đất", Department: "Địa chính – Xây dựng",
				Official: "Hoàng Minh Đức", DueAt: time.Date(2026, 11, 20, 17, 0, 0, 0, hcm), LateDays: 5, New: true,
				Tags: []Tag{tag(dvcwatch.BreachOverdue, dvcwatch.SeverityCritical)}, ApplicantName: "Cao Văn Lộc", ApplicantPhone: "0977 444 515"},
			{Code: "000.00.20.H01-261124-0021", Procedure: "Cấp giấy phép xây dựng nhà ở riêng lẻ", Department: "Địa chính – Xây dựng",
				Official: "Hoàng Minh Đức", DueAt: time.Date(2026, 11, 30, 17, 0, 0, 0, hcm), HoursLeft: 12 * time.Hour, New: true,
				Tags: []Tag{tag(dvcwatch.BreachDueSoon, dvcwatch.SeverityInfo)}, ApplicantName: "Kiều Thị Ngân", ApplicantPhone: "0944 555 626"},
		},
	}
}

// summaryPersonal lists every piece of personal data in summary(), in the forms
// a careless template could print it.
var summaryPersonal = []string{
	"Bùi Quang Hải", "Bùi", "Hải", "0976 111 808", "0976111808", "0976",
	"Lý Thị Mai", "Mai", "0933 222 919", "0933222919", "0933",
	"Cao Văn Lộc", "Lộc", "0977 444 515", "0977444515", "0977",
	"Kiều Thị Ngân", "Kiều", "Ngân", "0944 555 626", "0944555626", "0944",
}

func TestRenderSummaryGolden(t *testing.T) {
	t.Parallel()
	subject, text, html, err := RenderSummary(summary())
	if err != nil {
		t.Fatal(err)
	}
	const wantSubject = "[UBND Tân Phú] Tổng hợp ngày 28/11/2026: 3 hồ sơ quá hạn, 3 có vi phạm mới, 1 thiếu văn bản xin lỗi"
	if subject != wantSubject {
		t.Errorf("subject\n got %q\nwant %q", subject, wantSubject)
	}
	golden(t, "summary.txt.golden", text)
	golden(t, "summary.html.golden", html)

	for _, out := range []string{subject, text, html} {
		for _, p := range summaryPersonal {
			if strings.Contains(out, p) {
				t.Errorf("output contains personal data %q", p)
			}
		}
	}
	for _, out := range []string{text, html} {
		// The most overdue first, the one due soon last.
		inOrder(t, out, "261105-0003", "261118-0011", "261120-0012", "261124-0021")
		if !strings.Contains(out, "Văn hóa – Xã hội") || !strings.Contains(out, "07:35 ngày 27/11/2026") {
			t.Error("want every department, and since when breaches are new")
		}
	}
	if !strings.Contains(html, `<a href="https://motcua.example.vn/hoso/0012?a=1&amp;b=2" style="color: #1d4ed8;">000.00.20.H01-261120-0012</a>`) {
		t.Error("html: dossier code not linked to its escaped Link")
	}
	if !strings.Contains(html, "Đăng ký kết hôn &lt;trong nước&gt;") {
		t.Error("html: procedure name not escaped")
	}
}

// inOrder checks that each of want occurs in out after the previous one.
func inOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%q missing or out of order", w)
			return
		}
		rest = rest[i+len(w):]
	}
}

func TestRenderSummaryNothingLate(t *testing.T) {
	t.Parallel()
	s := Summary{Agency: "UBND xã Tân Phú", Date: time.Date(2026, 11, 28, 8, 0, 0, 0, hcm),
		Departments: []DepartmentSummary{{Name: "Tư pháp"}, {Name: "Địa chính"}}}
	subject, text, html, err := RenderSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[UBND xã Tân Phú] Tổng hợp ngày 28/11/2026: không có hồ sơ trễ hạn"; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	for _, out := range []string{text, html} {
		if !strings.Contains(out, "Không có hồ sơ nào trễ hạn.") {
			t.Errorf("does not say nothing is late:\n%s", out)
		}
	}
}

// TestRenderSummaryUnknownDepartment: breaches of dossiers the portal
// assigned to no department are counted under a name, not a blank row.
func TestRenderSummaryUnknownDepartment(t *testing.T) {
	t.Parallel()
	s := summary()
	s.Departments = append(s.Departments, DepartmentSummary{New: 142, DueSoon: 1})
	_, text, html, err := RenderSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text, html} {
		if !strings.Contains(out, "Chưa rõ phòng ban") {
			t.Errorf("a department without a name is not called %q:\n%s", "Chưa rõ phòng ban", out)
		}
	}
}

func TestRenderSummaryNoDate(t *testing.T) {
	t.Parallel()
	s := summary()
	s.Date = time.Time{}
	if _, _, _, err := RenderSummary(s); err == nil {
		t.Fatal("no error for a summary without a date")
	}
}

func TestRenderSummaryEscaping(t *testing.T) {
	t.Parallel()
	s := summary()
	s.Agency = `UBND xã "Tân Phú" & <b>`
	s.Departments[0].Name = `Tư pháp <script>alert("x")</script>`
	s.Rows[1].Link = "javascript:alert(1)"
	s.Rows[1].Official = "<img src=x onerror=alert(1)>"
	_, text, html, err := RenderSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"<script>", "</script>", "<b>", "<img", "javascript:"} {
		if strings.Contains(html, raw) {
			t.Errorf("html contains unescaped %q", raw)
		}
	}
	for _, escaped := range []string{
		"Tư pháp &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"UBND xã &#34;Tân Phú&#34; &amp; &lt;b&gt;",
		"&lt;img src=x onerror=alert(1)&gt;",
	} {
		if !strings.Contains(html, escaped) {
			t.Errorf("html lacks %q", escaped)
		}
	}
	// The text part is text/plain: shown as is.
	if !strings.Contains(text, `Tư pháp <script>alert("x")</script>`) {
		t.Error("text: department name altered")
	}
}

func TestRendererSummaryOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, SummarySubjectFile, "{{.Agency}} {{.Date}}: {{.Total}} việc{{range .Rows}} {{.Applicant}} {{.Phone}}{{end}}")
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := r.RenderSummary(summary())
	if err != nil {
		t.Fatal(err)
	}
	if want := "UBND xã Tân Phú 28/11/2026: 4 việc C. V. L. *******515 L. T. M. *******919 B. Q. H. *******808 K. T. N. *******626"; subject != want {
		t.Errorf("subject\n got %q\nwant %q", subject, want)
	}
	_, defText, defHTML, _ := RenderSummary(summary())
	if text != defText || html != defHTML {
		t.Error("templates missing from the override directory did not fall back to the defaults")
	}
}

func TestRendererSummaryOverrideErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, SummaryTextFile, "{{range .Rows}\n")
	if _, err := NewRenderer(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, SummaryTextFile)+":1:") {
		t.Errorf("parse error = %v, want it to name %s:1", err, SummaryTextFile)
	}
	dir = t.TempDir()
	// Templates cannot reach the raw applicant data, even by its Row name.
	write(t, dir, SummaryHTMLFile, "{{range .Rows}}{{.ApplicantPhone}}{{end}}")
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := r.RenderSummary(summary()); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, SummaryHTMLFile)) {
		t.Errorf("render error = %v, want it to name %s", err, SummaryHTMLFile)
	}
}

// TestSummaryWorkbook: the attached list opens as a workbook with a row per
// dossier, most urgent first, applicants masked, and the counts per
// department.
func TestSummaryWorkbook(t *testing.T) {
	t.Parallel()
	data, err := SummaryWorkbook(summary())
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Hồ sơ")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "Mã hồ sơ" || rows[1][0] != "000.00.20.H01-261105-0003" || rows[1][4] != "5" ||
		rows[4][0] != "000.00.20.H01-261124-0021" {
		t.Fatalf("rows %q", rows)
	}
	for _, row := range rows {
		for _, cell := range row {
			for _, p := range summaryPersonal {
				if strings.Contains(cell, p) {
					t.Errorf("workbook holds personal data %q", p)
				}
			}
		}
	}
	deps, err := f.GetRows("Phòng ban")
	if err != nil || len(deps) != 4 || deps[3][0] != "Địa chính – Xây dựng" || deps[3][1] != "1" || deps[3][3] != "2" {
		t.Errorf("departments %q, %v", deps, err)
	}
}
