// Package browsertest starts Debian's Chromium headless for tests that look at
// a page as its reader will: with the flags the field notes found necessary
// on a machine without network, and a fresh profile per test.
package browsertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package installs the browser.
const Chromium = "/usr/bin/chromium"

// ExecPath returns the browser to drive, skipping the test when it is missing
// except in CI (CI set), where .ci/run installs it and its absence fails.
func ExecPath(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no browser at %s (apt-get install chromium); CI runs this test", Chromium)
		}
		t.Fatalf("CI is set and %s is missing: %v", Chromium, err)
	}
	return Chromium
}

// Start starts the browser with a window of width×height and returns a tab's
// context, closed when the test ends.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(ExecPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(tab, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start %s: %v", Chromium, err)
	}
	return tab
}

// Overflow is a script that lists what sticks out of the viewport's width:
// the page's own scroll width, and every element whose right edge passes it
// (a clipped column). A page that reads without sideways scrolling lists
// nothing.
const Overflow = `(() => {
	const w = window.innerWidth, out = [];
	if (document.documentElement.scrollWidth > w) out.push("page scrolls to " + document.documentElement.scrollWidth + "px");
	for (const e of document.body.querySelectorAll("*")) {
		const r = e.getBoundingClientRect();
		if (r.width > 0 && r.right > w + 1) out.push(e.tagName + " ends at " + Math.round(r.right) + "px: " + e.textContent.slice(0, 60));
	}
	return out;
})()`
