package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestUIBrowserDossierPage: a viewer searches a dossier by its code in the
// top bar and lands on its page, which explains the due with the days the
// count skipped (the weekend, Hùng Kings' day and its compensatory Monday,
// 30 April, 1 May), shows the applicant masked, the steps, the breaches with
// their silence and acknowledgement, and the emails, each opening the email
// view; nothing scrolls sideways at 1366 px nor at 390 px. With
// DVCWATCH_SCREENSHOTS set to a directory, the screenshots are written there.
func TestUIBrowserDossierPage(t *testing.T) {
	_, openBrowser := browserTest(t, 60*time.Second)

	db := storetest.SQLite(t)
	svc := dossierServices(t, db)
	dossierSeed(t, db, svc, false)

	web := browserServer(t, db, func(o *admin.Options) { o.Names, o.Rules = svc.Directory, svc.Detector.Rules })

	b := openBrowser()
	b.do("open the UI", chromedp.Navigate(web.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if n := b.count(`#search:not([hidden])`); n != 0 {
		t.Errorf("the search shows before logging in")
	}
	b.login(browserViewerToken, browserViewerName, "viewer")

	// The search in the top bar opens the only dossier with the code.
	page := `#view[data-route="#/dossiers/onestop/` + dossierCode + `"]:not([aria-busy]) .dossier`
	b.do("search by code", chromedp.WaitVisible(chromedp.CSS("#search-code")),
		chromedp.SendKeys(chromedp.CSS("#search-code"), dossierCode),
		chromedp.Click(chromedp.CSS(`#search button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(page)))
	text := b.evalString(`document.querySelector("#view").innerText`)
	for _, raw := range []string{dossierApplicant, dossierPhone, strings.ReplaceAll(dossierPhone, " ", ""), dossierEmail, dossierIDNumber} {
		if strings.Contains(text, raw) {
			t.Errorf("the page shows the applicant's %q", raw)
		}
	}
	if got := b.text(page + ` .applicant`); got != "N. T. H., *******678" {
		t.Errorf("applicant shown as %q", got)
	}
	if got := b.text(page + ` [data-section="facts"] .agency`); got != "UBND xã Hòa Bình" ||
		b.evalString(`document.querySelector(`+browserJS(page+` [data-section="facts"] .agency`)+`).title`) != dossierAgency {
		t.Errorf("agency shown as %q, want its name with its code on hover", got)
	}

	// The due and how it was computed, with the days skipped and named.
	due := page + ` [data-section="due"]`
	if got := b.text(due + ` .due-at`); got != "05/05/2026 17:00:00" {
		t.Errorf("due shown as %q", got)
	}
	if got := b.text(due + ` .due-lead`); !strings.Contains(got, "cổng không ghi ngày hẹn trả") {
		t.Errorf("the due's basis: %q", got)
	}
	if got := b.text(due + ` .legal-due`); got != "05/05/2026 17:00:00" {
		t.Errorf("legal due shown as %q", got)
	}
	if n := b.count(due + ` ul.skipped li`); n != 7 {
		t.Errorf("%d skipped days shown, want 7", n)
	}
	for day, want := range map[string]string{
		"2026-04-26": "Chủ Nhật 26/04/2026 — Cuối tuần Chủ Nhật – Sunday, Giỗ Tổ Hùng Vương",
		"2026-04-27": "Thứ Hai 27/04/2026 — Nghỉ bù Nghỉ bù Giỗ Tổ Hùng Vương 26/4",
		"2026-04-30": "Thứ Năm 30/04/2026 — Ngày lễ Ngày Chiến thắng",
		"2026-05-01": "Thứ Sáu 01/05/2026 — Ngày lễ Quốc tế Lao động",
	} {
		if got := b.text(due + ` li[data-skipped="` + day + `"]`); !strings.HasPrefix(got, want) {
			t.Errorf("skipped %s shown as %q, want it to start %q", day, got, want)
		}
	}

	// Steps, breaches with their silence and acknowledgement.
	if got := b.text(page + ` li.step.current .step-head`); !strings.Contains(got, "Phạm Văn C") || !strings.Contains(got, "Phòng Kinh tế") {
		t.Errorf("the step in progress: %q", got)
	}
	if n := b.count(page + ` li.breach-card[data-kind="step_overdue"][data-silenced="true"] a.state.silenced`); n != 2 {
		t.Errorf("%d silenced step breaches shown with their silence, want 2", n)
	}
	if got := b.text(page + ` li.breach-card[data-kind="overdue"] li[data-ack="pham.van.c"]`); !strings.Contains(got, "Đang chờ kết quả xác minh") {
		t.Errorf("the overdue's acknowledgement: %q", got)
	}
	if got := b.text(page + ` li.breach-card[data-kind="no_apology"]`); !strings.Contains(got, "Đã kết thúc") {
		t.Errorf("the resolved no_apology: %q", got)
	}

	// No sideways scroll, at a laptop's width and a phone's.
	b.checkWidths("dossier")

	// An email that told of it opens in the email view.
	b.do("open an email", chromedp.Click(chromedp.CSS(page+` [data-section="emails"] li[data-notification] a`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route^="#/emails/"] .detail h1.subject`)))

	// A code found nowhere says so.
	b.do("search for nothing", chromedp.SetValue(chromedp.CSS("#search-code"), "KHONG-CO"),
		chromedp.Click(chromedp.CSS(`#search button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/dossiers?code=KHONG-CO"] [data-not-found="KHONG-CO"]`)))
	b.checkConsole()
}
