package email

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dvcwatch/dvcwatch/internal/browsertest"
)

// TestRenderOnAPhone renders a digest, a summary and the monthly results in headless Chromium at
// 390 px wide, as an official reads them on a phone: nothing may scroll
// sideways or be cut off. With DVCWATCH_SCREENSHOTS set to a directory, the
// screenshots are written there to be looked at.
func TestRenderOnAPhone(t *testing.T) {
	var pages = map[string]func() (string, error){
		"digest": func() (string, error) {
			d := digest()
			for i := range 40 { // past the rows listed: the counts per department show
				r := d.Rows[i%len(d.Rows)]
				r.Code = fmt.Sprintf("%s-%02d", r.Code, i)
				d.Rows = append(d.Rows, r)
			}
			d.ListURL = "https://dvcwatch.example.vn/#/breaches?recipient=tran.thi.binh.pho.truong.phong.tu.phap"
			_, _, html, err := Render(d)
			return html, err
		},
		"summary": func() (string, error) { _, _, html, err := RenderSummary(summary()); return html, err },
		"monthly": func() (string, error) { _, _, html, err := RenderMonthlyReport(monthly()); return html, err },
	}
	shots := os.Getenv("DVCWATCH_SCREENSHOTS")
	for _, width := range []int{390, 1366} {
		tab := browsertest.Start(t, width, 844)
		for name, render := range pages {
			html, err := render()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), name+".html")
			if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(tab, chromedp.Navigate("file://"+path)); err != nil {
				t.Fatal(err)
			}
			problems, err := chromedp.Run(tab, chromedp.Evaluate[[]string](browsertest.Overflow))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%s at %d px: %s", name, width, p)
			}
			if shots == "" {
				continue
			}
			// The first screen, as the reader opens it, and the whole mail.
			for file, shot := range map[string]chromedp.Action[[]byte]{"": chromedp.CaptureScreenshot(), "-full": chromedp.FullScreenshot(100)} {
				png, err := chromedp.Run(tab, shot)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-%d%s.png", name, width, file)), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// monthly is a commune's month with long department names, as the phone
// test's worst case.
func monthly() MonthlyReport {
	figures := []Figure{
		{"Tỷ lệ giải quyết đúng hạn", "95,5%", "94,1%"}, {"Tiếp nhận trong tháng", "1.948", "1.702"},
		{"Đã giải quyết", "1.933", "1.610"}, {"Giải quyết quá hạn", "31", "44"},
		{"Đang giải quyết quá hạn cuối tháng", "18", "25"},
		{"Thời gian giải quyết trung bình (ngày làm việc)", "2,9", "3,1"},
		{"Tỷ lệ thanh toán trực tuyến", "", "100,0%"},
	}
	return MonthlyReport{
		Recipient: Recipient{Name: "Bộ phận theo dõi, tổng hợp — Phòng Văn hóa – Xã hội"},
		Agency:    "Ủy ban nhân dân xã Hòa Bình, huyện Tân Lạc, tỉnh Hòa Bình", Prefix: "UBND Hòa Bình",
		Month: "11/2026", Previous: "10/2026", OnTime: "95,5%", PreviousOnTime: "94,1%", Figures: figures,
		Departments: []ResultLine{
			{"Phòng Văn hóa – Xã hội và Phát triển cộng đồng", "1.630", "1.612", "14", "96,4%"},
			{"Phòng Kinh tế – Hạ tầng – Đô thị", "80", "71", "7", "92,2%"},
			{"(chưa phân công)", "3", "0", "0", "100,0%"},
		},
		Attached: "ket-qua-11-2026-000.05.31.H99.xlsx", ConsoleURL: "https://dvcwatch.example.vn/#/report?month=2026-11",
	}
}
