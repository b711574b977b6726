package email

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dvcwatch/dvcwatch/internal/browsertest"
)

// TestRenderOnAPhone renders a digest and a summary in headless Chromium at
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
