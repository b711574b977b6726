package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestAckPageBrowser opens an acknowledge link in Chromium as a phone 390 px
// wide: the page fits without scrolling sideways, its stylesheet applies
// under its policy, and its form, posted by the browser itself (with the
// Sec-Fetch-Site a browser sends), records the note. The screenshots are
// kept in DVCWATCH_SCREENSHOTS when it names a directory.
func TestAckPageBrowser(t *testing.T) {
	_, openBrowser := browserTest(t, 60*time.Second)
	b := ackSetup(t, storetest.SQLite(t))
	path := b.link(t, "binh", ref(b.overdue), ref(b.apology))

	tab := openBrowser()
	tab.do("a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	tab.do("open the link", chromedp.Navigate(b.url+path), chromedp.WaitVisible(chromedp.CSS(`main[data-page="confirm"] button`)))
	ackFits(t, tab)
	if got := tab.evalString(`getComputedStyle(document.querySelector("button")).backgroundColor`); got != "rgb(11, 87, 208)" {
		t.Errorf("the button's background is %q: the page's stylesheet did not apply", got)
	}
	ackScreenshot(t, tab, "ack-confirm.png")

	const note = "Đã gọi điện cho công dân, chờ bổ sung"
	tab.do("confirm", chromedp.SendKeys(chromedp.CSS("#reason"), note), chromedp.Click(chromedp.CSS("button")),
		chromedp.WaitVisible(chromedp.CSS(`main[data-page="recorded"]`)))
	ackFits(t, tab)
	ackScreenshot(t, tab, "ack-recorded.png")
	for _, id := range []int64{b.overdue.ID, b.apology.ID} {
		if got := b.ack(t, "binh", id); got.Reason != note {
			t.Errorf("breach %d: acknowledged with %+v, want the note typed", id, got)
		}
	}

	// The page, reloaded by the browser, shows the link used.
	tab.do("open the link again", chromedp.Navigate(b.url+path), chromedp.WaitVisible(chromedp.CSS(`main[data-page="used"]`)))
	ackFits(t, tab)

	tab.mu.Lock()
	defer tab.mu.Unlock()
	for _, line := range tab.console {
		switch {
		case strings.HasPrefix(line, "verbose: "),
			// The used link's answer, and the favicon the browser asks for itself.
			line == "error: Failed to load resource: the server responded with a status of 409 (Conflict)",
			line == "error: Failed to load resource: the server responded with a status of 404 (Not Found)":
		default:
			t.Errorf("the page reported: %s", line)
		}
	}
}

// ackFits fails the test when the page is wider than the 390 px viewport.
func ackFits(t *testing.T, tab *browserTab) {
	t.Helper()
	if got := tab.evalString(`String(document.documentElement.scrollWidth) + "/" + String(window.innerWidth)`); got != "390/390" {
		t.Errorf("page width / viewport = %s, want 390/390 (no sideways scrolling)", got)
	}
}

func ackScreenshot(t *testing.T, tab *browserTab, name string) {
	t.Helper()
	dir := os.Getenv("DVCWATCH_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(tab.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
