package email

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// summary is the office's summary of 28/11/2026: two departments with late
// dossiers, given out of order, and one with none; the personal data must not
// leak.
func summary() Summary {
	overdue := func(code, severity string, due time.Time, by, name, phone string) Item {
		return Item{
			Kind: "overdue", KindLabel: "Quá hạn", Severity: severity,
			Code: "000.00.20.H01-" + code, Procedure: "Cấp giấy chứng nhận quyền sử dụng đất",
			Department: "Địa chính – Xây dựng", Official: "Hoàng Minh Đức",
			DueAt: due, OverdueBy: by, ApplicantName: name, ApplicantPhone: phone,
		}
	}
	return Summary{
		Recipient: Recipient{Name: "Văn phòng HĐND và UBND", Email: "vanphong@ubnd.example.vn", Role: dvcwatch.RoleOffice},
		Agency:    "UBND xã Tân Phú",
		// 17:30 UTC on the 27th is 00:30 on the 28th in Hà Nội: the day shown is the 28th.
		Date: time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC),
		Departments: []DepartmentSummary{
			{
				Name: "Tư pháp – Hộ tịch",
				Overdue: []Item{
					{
						Kind: "overdue", KindLabel: "Quá hạn", Severity: "warning",
						Code: "000.00.20.H01-261120-0012", Procedure: "Chứng thực bản sao từ bản chính",
						Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
						DueAt: time.Date(2026, 11, 26, 17, 0, 0, 0, hcm), OverdueBy: "1 ngày làm việc",
						Link:          "https://motcua.example.vn/hoso/0012?a=1&b=2",
						ApplicantName: "Bùi Quang Hải", ApplicantPhone: "0976 111 808",
					},
					{
						Kind: "overdue", KindLabel: "Quá hạn", Severity: "critical",
						Code: "000.00.20.H01-261118-0011", Procedure: "Đăng ký kết hôn <trong nước>",
						Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
						// 03:00 UTC is 10:00 in Hà Nội.
						DueAt: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), OverdueBy: "2 ngày làm việc",
						Link:          "https://motcua.example.vn/hoso/0011",
						ApplicantName: "Lý Thị Mai", ApplicantPhone: "0933 222 919",
					},
				},
				NewBreaches: []Item{{
					Kind: "overdue", KindLabel: "Quá hạn", Severity: "warning",
					Code: "000.00.20.H01-261120-0012", Procedure: "Chứng thực bản sao từ bản chính",
					Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
					DueAt: time.Date(2026, 11, 26, 17, 0, 0, 0, hcm), OverdueBy: "1 ngày làm việc",
					Link:          "https://motcua.example.vn/hoso/0012?a=1&b=2",
					ApplicantName: "Bùi Quang Hải", ApplicantPhone: "0976 111 808",
				}},
				MissingApology: []Item{{
					Kind: "missing_apology", KindLabel: "Thiếu thư xin lỗi", Severity: "warning",
					Code: "000.00.20.H01-261102-0007", Procedure: "Đăng ký khai sinh",
					Department: "Tư pháp – Hộ tịch", Official: "Lê Văn Cường",
					DueAt: time.Date(2026, 11, 10, 17, 0, 0, 0, hcm), OverdueBy: "3 ngày làm việc",
					ApplicantName: "Tạ Minh Khôi", ApplicantPhone: "0868 333 404",
				}},
			},
			{Name: "Văn hóa – Xã hội"},
			{
				Name: "Địa chính – Xây dựng",
				Overdue: []Item{
					overdue("261105-0003", "critical", time.Date(2026, 11, 20, 17, 0, 0, 0, hcm), "5 ngày làm việc", "Cao Văn Lộc", "0977 444 515"),
				},
				NewBreaches: []Item{
					{
						Kind: "due_soon", KindLabel: "Sắp đến hạn", Severity: "info",
						Code: "000.00.20.H01-261124-0021", Procedure: "Cấp giấy phép xây dựng nhà ở riêng lẻ",
						Department: "Địa chính – Xây dựng", Official: "Hoàng Minh Đức",
						DueAt:         time.Date(2026, 11, 30, 17, 0, 0, 0, hcm),
						ApplicantName: "Kiều Thị Ngân", ApplicantPhone: "0944 555 626",
					},
					overdue("261105-0003", "critical", time.Date(2026, 11, 20, 17, 0, 0, 0, hcm), "5 ngày làm việc", "Cao Văn Lộc", "0977 444 515"),
				},
			},
		},
	}
}

// summaryPersonal lists every piece of personal data in summary(), in the forms
// a careless template could print it.
var summaryPersonal = []string{
	"Bùi Quang Hải", "Bùi", "Hải", "0976 111 808", "0976111808", "0976",
	"Lý Thị Mai", "Mai", "0933 222 919", "0933222919", "0933",
	"Tạ Minh Khôi", "Khôi", "0868 333 404", "0868333404", "0868",
	"Cao Văn Lộc", "Lộc", "0977 444 515", "0977444515", "0977",
	"Kiều Thị Ngân", "Kiều", "Ngân", "0944 555 626", "0944555626", "0944",
}

func TestRenderSummaryGolden(t *testing.T) {
	t.Parallel()
	subject, text, html, err := RenderSummary(summary())
	if err != nil {
		t.Fatal(err)
	}
	const wantSubject = "[dvcwatch] Tổng hợp 28/11/2026: 3 hồ sơ quá hạn, 3 vi phạm mới, 1 thiếu thư xin lỗi"
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
	for _, masked := range []string{"B. Q. H.", "*******808", "L. T. M.", "*******919", "T. M. K.", "*******404",
		"C. V. L.", "*******515", "K. T. N.", "*******626"} {
		if !strings.Contains(text, masked) || !strings.Contains(html, masked) {
			t.Errorf("masked %q missing from text or html", masked)
		}
	}
	for _, out := range []string{text, html} {
		// Departments in the order given, each list most urgent first.
		inOrder(t, out, "Tư pháp – Hộ tịch", "261118-0011", "261120-0012", "261120-0012", "261102-0007",
			"Văn hóa – Xã hội", "Địa chính – Xây dựng", "261105-0003", "261105-0003", "261124-0021")
		if !strings.Contains(out, "Không có hồ sơ trễ hạn.") {
			t.Error("the department with nothing late does not say so")
		}
	}
	if !strings.Contains(text, "25/11/2026 10:00") || !strings.Contains(html, "25/11/2026 10:00") {
		t.Error("due time not shown in Vietnamese time")
	}
	if !strings.Contains(html, `<a href="https://motcua.example.vn/hoso/0012?a=1&amp;b=2">000.00.20.H01-261120-0012</a>`) {
		t.Error("html: dossier code not linked to its escaped Link")
	}
	if !strings.Contains(html, "Đăng ký kết hôn &lt;trong nước&gt;") {
		t.Error("html: procedure name not escaped")
	}
	// The counts table: a row per department and the totals.
	for _, row := range []string{
		"<tr><td>Tư pháp – Hộ tịch</td><td>2</td><td>1</td><td>1</td></tr>",
		"<tr><td>Văn hóa – Xã hội</td><td>0</td><td>0</td><td>0</td></tr>",
		"<tr><td>Địa chính – Xây dựng</td><td>1</td><td>2</td><td>0</td></tr>",
		"<td>Tổng cộng</td><td>3</td><td>3</td><td>1</td></tr>",
	} {
		if !strings.Contains(html, row) {
			t.Errorf("html: counts table lacks %s", row)
		}
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

func TestRenderSummarySubject(t *testing.T) {
	t.Parallel()
	late := func(n int) []Item {
		items := make([]Item, n)
		for i := range items {
			items[i] = Item{Kind: "overdue", KindLabel: "Quá hạn", Code: string(rune('A' + i))}
		}
		return items
	}
	day := time.Date(2026, 11, 28, 8, 0, 0, 0, hcm)
	tests := []struct {
		name        string
		departments []DepartmentSummary
		want        string
	}{
		{"several departments", []DepartmentSummary{
			{Name: "Tư pháp", Overdue: late(5), NewBreaches: late(1), MissingApology: late(2)},
			{Name: "Văn hóa"},
			{Name: "Địa chính", Overdue: late(7), NewBreaches: late(2)},
		}, "[dvcwatch] Tổng hợp 28/11/2026: 12 hồ sơ quá hạn, 3 vi phạm mới, 2 thiếu thư xin lỗi"},
		{"only missing apology", []DepartmentSummary{{Name: "Tư pháp", MissingApology: late(1)}},
			"[dvcwatch] Tổng hợp 28/11/2026: 0 hồ sơ quá hạn, 0 vi phạm mới, 1 thiếu thư xin lỗi"},
		{"all zero", []DepartmentSummary{{Name: "Tư pháp"}, {Name: "Địa chính", Overdue: []Item{}}},
			"[dvcwatch] Tổng hợp 28/11/2026: không có hồ sơ trễ hạn"},
		{"no departments", nil,
			"[dvcwatch] Tổng hợp 28/11/2026: không có hồ sơ trễ hạn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, _, err := RenderSummary(Summary{Date: day, Departments: tt.departments})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderSummaryNothingLate(t *testing.T) {
	t.Parallel()
	s := Summary{
		Recipient: Recipient{Role: dvcwatch.RoleOffice}, Agency: "UBND xã Tân Phú",
		Date:        time.Date(2026, 11, 28, 8, 0, 0, 0, hcm),
		Departments: []DepartmentSummary{{Name: "Tư pháp – Hộ tịch"}, {Name: "Địa chính – Xây dựng"}},
	}
	subject, text, html, err := RenderSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[dvcwatch] Tổng hợp 28/11/2026: không có hồ sơ trễ hạn"; subject != want {
		t.Errorf("subject\n got %q\nwant %q", subject, want)
	}
	if want := "ngày 28/11/2026:\nKhông có hồ sơ trễ hạn.\n"; !strings.Contains(text, want) {
		t.Errorf("text does not say plainly that nothing is late:\n%s", text)
	}
	if want := "ngày <strong>28/11/2026</strong>: không có hồ sơ trễ hạn.</p>"; !strings.Contains(html, want) {
		t.Errorf("html does not say plainly that nothing is late:\n%s", html)
	}
	for _, out := range []string{text, html} {
		// No empty sections or zero counts to read through.
		for _, noise := range []string{"Tư pháp", "0 hồ sơ quá hạn", "<table"} {
			if strings.Contains(out, noise) {
				t.Errorf("nothing late, yet the body contains %q:\n%s", noise, out)
			}
		}
	}
	if !strings.Contains(text, "Kính gửi Văn phòng HĐND và UBND,") {
		t.Error("text: no default greeting for an unnamed recipient")
	}
}

func TestRenderSummaryNoDate(t *testing.T) {
	t.Parallel()
	if _, _, _, err := RenderSummary(Summary{Departments: summary().Departments}); err == nil {
		t.Fatal("no error for a summary without a date")
	}
}

func TestRenderSummaryEscaping(t *testing.T) {
	t.Parallel()
	s := summary()
	s.Agency = `UBND xã "Tân Phú" & <b>`
	s.Departments[0].Name = `Tư pháp <script>alert("x")</script>`
	s.Departments[0].MissingApology[0].Link = "javascript:alert(1)"
	s.Departments[0].MissingApology[0].Official = "<img src=x onerror=alert(1)>"
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
	// Name in the counts table and as the section heading.
	if n := strings.Count(html, "&lt;script&gt;"); n != 2 {
		t.Errorf("escaped department name appears %d times, want 2", n)
	}
	// The text part is text/plain: shown as is.
	if !strings.Contains(text, `Tư pháp <script>alert("x")</script>`) {
		t.Error("text: department name altered")
	}
}

func TestRendererSummaryOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, SummarySubjectFile, "{{.Agency}} {{.Date}}: {{.Total}} việc\n"+
		"{{range .Departments}}{{range .Overdue}} {{.Applicant}} {{.Phone}}{{end}}{{end}}")
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := r.RenderSummary(summary())
	if err != nil {
		t.Fatal(err)
	}
	// Folded to one line; the applicant data reaches the override masked.
	want := "UBND xã Tân Phú 28/11/2026: 7 việc L. T. M. *******919 B. Q. H. *******808 C. V. L. *******515"
	if subject != want {
		t.Errorf("overridden subject\n got %q\nwant %q", subject, want)
	}
	// summary_text.tmpl and summary_html.tmpl are missing from dir: the defaults apply.
	_, defText, defHTML, _ := RenderSummary(summary())
	if text != defText || html != defHTML {
		t.Error("a template missing from the override directory did not fall back to the default")
	}
	// The digest's templates are not the summary's.
	got, _, _, err := r.Render(digest())
	if err != nil {
		t.Fatal(err)
	}
	if def, _, _, _ := Render(digest()); got != def {
		t.Errorf("overriding %s changed the digest subject to %q", SummarySubjectFile, got)
	}
}

func TestRendererSummaryOverrideErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, content string
		want                []string // substrings of the error
	}{
		{"subject parse", SummarySubjectFile, "Tổng hợp {{.Date}\n", []string{SummarySubjectFile + ":1:", "parse email template"}},
		{"text parse", SummaryTextFile, "Kính gửi\n\n{{range .Departments}}", []string{SummaryTextFile + ":3:", "parse email template"}},
		{"html parse", SummaryHTMLFile, "<p>\n{{if .Total}}<b>{{else}}</p>", []string{SummaryHTMLFile + ":2:", "parse email template"}},
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
		// Templates cannot reach the raw applicant data, even by its Item name.
		write(t, dir, SummaryHTMLFile, "{{range .Departments}}{{range .Overdue}}{{.ApplicantPhone}}{{end}}{{end}}")
		r, err := NewRenderer(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, err = r.RenderSummary(summary())
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, SummaryHTMLFile)) ||
			!strings.Contains(err.Error(), "render summary email html") {
			t.Fatalf("got %v, want an error naming %s", err, SummaryHTMLFile)
		}
	})
}
