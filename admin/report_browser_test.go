package admin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/internal/reporttest"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestUIBrowserReportPage: a viewer opens the monthly mail's link to the
// golden month's results (#/report?month=2026-11): the agency's on-time rate
// against October's, the chart of the on-time rate per month per department
// (an SVG with a line each), a table per department and per official. A
// department's count of overdue dossiers lists exactly that many dossiers,
// whose code opens the dossier's page; the year's view evaluates the
// officials with satisfaction "no data". Nothing scrolls sideways at 1366
// px nor at 390 px. With DVCWATCH_SCREENSHOTS set to a directory, the
// screenshots are written there.
func TestUIBrowserReportPage(t *testing.T) {
	_, openBrowser := browserTest(t, 90*time.Second)

	db := storetest.SQLite(t)
	svc := reporttest.Services(t, db, reporttest.Config)
	web := browserServer(t, db, func(o *admin.Options) {
		o.Names, o.Rules, o.Agencies = svc.Directory, svc.Detector.Rules, []string{reporttest.Agency}
	})

	b := openBrowser()
	b.do("open the UI", chromedp.Navigate(web.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.login(browserViewerToken, browserViewerName, "viewer")
	b.do("laptop width", chromedp.EmulateViewport(1366, 900))
	if got := b.text(`#nav a[data-view="report"]`); got != "Kết quả" {
		t.Errorf("the menu's results: %q", got)
	}

	// The monthly mail's link.
	page := `#view[data-route="#/report?month=2026-11"]:not([aria-busy]) .report`
	b.do("the mail's link", chromedp.Navigate(web.URL+"/#/report?month=2026-11"), chromedp.WaitVisible(chromedp.CSS(page)))
	if got := b.text(page + ` .headline .big`); got != "66,7%" {
		t.Errorf("on-time rate shown as %q, want 66,7%% (6/9)", got)
	}
	// October: D4 open within its due, D10 finished late: 50 %.
	if got := b.text(page + ` .headline .versus`); got != "▲ tăng 16,7 điểm so với tháng 10/2026 (50,0%)" {
		t.Errorf("against October: %q", got)
	}
	if got := b.text(page + ` table.compare tr[data-indicator="received"] td:nth-of-type(1)`); got != "9" {
		t.Errorf("received in November shown as %q, want 9", got)
	}

	// The chart: a line for the agency and each department, 0–100 %.
	chart := page + ` svg.trend-chart`
	if n := b.count(chart + ` g.series path`); n < 3 {
		t.Errorf("%d lines drawn, want the agency's and two departments'", n)
	}
	if got := b.evalString(`document.querySelector(` + browserJS(chart+` g.series.agency path`) + `).getAttribute("d")`); strings.Count(got, "L") < 2 {
		t.Errorf("the agency's line %q, want September to November", got)
	}
	if got := b.text(chart + ` title`); got != "Tỷ lệ giải quyết đúng hạn theo tháng, năm 2026" {
		t.Errorf("chart title %q", got)
	}
	if got := b.text(chart + ` desc`); !strings.Contains(got, "Phòng Kinh tế: ") || !strings.Contains(got, "T11 66,7%") {
		t.Errorf("chart description %q", got)
	}
	b.do("zoom the chart", chromedp.Click(chromedp.CSS(page+` button[data-action="zoom"]`)),
		chromedp.WaitVisible(chromedp.CSS(page+` button[data-action="zoom"][aria-pressed="true"]`)))
	if n := b.count(chart + ` g.series path`); n < 3 {
		t.Errorf("zoomed: %d lines drawn", n)
	}
	b.do("unzoom the chart", chromedp.Click(chromedp.CSS(page+` button[data-action="zoom"]`)),
		chromedp.WaitVisible(chromedp.CSS(page+` button[data-action="zoom"][aria-pressed="false"]`)))
	if n := b.count(page + ` ul.legend li`); n < 3 {
		t.Errorf("%d legend entries", n)
	}
	if got := b.evalString(`document.querySelector(` + browserJS(chart) + `).getBoundingClientRect().height.toString()`); got == "0" {
		t.Errorf("the chart has no height")
	}
	if got := b.evalString(`document.querySelector('#view a[data-action="download"]').getAttribute("href")`); got != "/api/v1/report.xlsx?month=2026-11&agency=000.05.31.H99" {
		t.Errorf("the workbook's link %q", got)
	}
	// The procedures, folded: their names and average handling time.
	b.do("open the procedures", chromedp.Click(chromedp.CSS(page+` details.procedures summary`)))
	if got := b.text(page + ` table.report-table[data-level="procedure"] tr[data-group="2.002"] th.name`); got != "Đăng ký hộ kinh doanh" {
		t.Errorf("procedure 2.002 shown as %q", got)
	}
	b.checkWidths("report")

	// Names with codes on hover; each count lists its dossiers.
	kt := page + ` table.report-table[data-level="department"] tr[data-group="KT"]`
	if got := b.text(kt + ` th.name`); got != "Phòng Kinh tế" {
		t.Errorf("KT shown as %q", got)
	}
	for _, c := range []struct{ group, measure, want string }{
		{"KT", "open_overdue", "D6"},
		{"VHXH", "finished_late", "D3 D7"},
	} {
		link := page + ` table.report-table[data-level="department"] tr[data-group="` + c.group + `"] a.drill[data-measure="` + c.measure + `"]`
		n := b.text(link)
		b.do("drill into "+c.group+" "+c.measure, chromedp.Click(chromedp.CSS(link)),
			chromedp.WaitVisible(chromedp.CSS(`#view[data-route^="#/report/dossiers?"]:not([aria-busy]) .report-dossiers`)))
		codes := b.evalString(`[...document.querySelectorAll("#view tr[data-dossier]")].map((r) => r.dataset.dossier).join(" ")`)
		if total := b.text(`#view .report-dossiers .pager .total`); total != n || codes != c.want || fmt.Sprint(len(strings.Fields(codes))) != n {
			t.Errorf("%s %s: the count says %s, the list %s dossiers: %s; want %s", c.group, c.measure, n, total, codes, c.want)
		}
		if c.group == "KT" {
			b.checkWidths("report-dossiers")
			b.do("open the dossier", chromedp.Click(chromedp.CSS(`#view tr[data-dossier="D6"] a.dossier-link`)),
				chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/dossiers/onestop/D6"] .dossier`)))
		}
		b.do("back to the results", chromedp.Navigate(web.URL+"/#/report?month=2026-11"), chromedp.WaitVisible(chromedp.CSS(page)))
	}

	// A month without dossiers says there is nothing to count, never 100 %.
	empty := `#view[data-route="#/report?month=2026-01"]:not([aria-busy]) .report`
	b.do("an empty month", chromedp.Navigate(web.URL+"/#/report?month=2026-01"), chromedp.WaitVisible(chromedp.CSS(empty)))
	if got := b.text(empty + ` .headline .big`); got != "chưa có dữ liệu" {
		t.Errorf("January's on-time rate shown as %q", got)
	}
	b.checkWidths("report-empty")
	b.do("back to the results", chromedp.Navigate(web.URL+"/#/report?month=2026-11"), chromedp.WaitVisible(chromedp.CSS(page)))

	// Breaches are counted one by one; their list is of dossiers, and says so.
	b.do("the agency's breaches", chromedp.Click(chromedp.CSS(page+` table.compare tr[data-indicator="breaches"] a.drill`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route^="#/report/dossiers?"]:not([aria-busy]) .report-dossiers`)))
	n := b.count(`#view tr[data-dossier]`)
	if got := b.text(`#view .report-dossiers p.hint`); got != fmt.Sprintf("Con số 12 đếm từng vi phạm; chúng thuộc %d hồ sơ dưới đây (một hồ sơ có thể có nhiều vi phạm).", n) {
		t.Errorf("the breaches' list says %q (%d dossiers)", got, n)
	}
	b.do("back to the results", chromedp.Navigate(web.URL+"/#/report?month=2026-11"), chromedp.WaitVisible(chromedp.CSS(page)))

	// The officials' yearly evaluation: satisfaction is no data, never 100 %.
	year := `#view[data-route="#/report?year=2026&agency=000.05.31.H99"]:not([aria-busy]) .report`
	b.do("the year", chromedp.Click(chromedp.CSS(`#view .tabs a[data-tab="year"]`)), chromedp.WaitVisible(chromedp.CSS(year)))
	if got := b.text(year + ` tr[data-group="c"] th.name`); got != "Phạm Văn C" {
		t.Errorf("official c shown as %q", got)
	}
	if n, none := b.count(year+` td.satisfaction`), b.count(year+` td.satisfaction[data-satisfaction="none"]`); n == 0 || n != none {
		t.Errorf("%d satisfaction cells, %d of them no data", n, none)
	}
	if got := b.text(year + ` tr[data-group="c"] td.satisfaction`); got != "chưa có dữ liệu" {
		t.Errorf("c's satisfaction shown as %q", got)
	}
	b.checkWidths("report-year")
	b.checkConsole()
}
