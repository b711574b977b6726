package admin_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestUIBrowserBreachPages: a viewer reads 5,000 breaches (4,500 open) a
// page at a time. The total shows in Vietnamese digits, the second page
// starts with the breach that follows the first page's last in the order of
// lateness, "previous" goes back, names show with their codes on hover, the
// times are labelled Hanoi's, a search by receipt number finds one breach
// whose dossier code opens the dossier's page, and the filters live in the
// address. Nothing scrolls sideways at 1366 px nor at 390 px. With
// DVCWATCH_SCREENSHOTS set to a directory, the screenshots are written there.
func TestUIBrowserBreachPages(t *testing.T) {
	ctx, openBrowser := browserTest(t, 90*time.Second)

	db := storetest.SQLite(t)
	base := time.Now().UTC().Truncate(time.Minute)
	if err := storetest.SeedBreaches(ctx, db, base, 0, 5000); err != nil {
		t.Fatal(err)
	}
	want, err := db.BreachPage(ctx, store.BreachFilter{OpenOnly: true, Sort: store.SortLate, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		if _, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprint("mail-", i), Kind: "alerts",
			Recipient: storetest.SeedOfficials[i%len(storetest.SeedOfficials)], Email: "can.bo@x.example",
			Subject: fmt.Sprintf("[dvcwatch] %d hồ sơ quá hạn", 1000+i), Text: "t", HTML: "h", Items: 1000 + i}, base); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 130 {
		if _, err := db.RecordJobRun(ctx, dvcwatch.JobRun{Job: "detect", Schedule: "detect", TaskID: fmt.Sprint("detect@", i),
			StartedAt: base, FinishedAt: base.Add(3 * time.Second), Status: dvcwatch.RunSucceeded,
			Counts: map[string]int{"dossiers": 12345, "breaches": 4643}}); err != nil {
			t.Fatal(err)
		}
	}
	web := browserServer(t, db, func(o *admin.Options) { o.Names = seedNames{} })

	b := openBrowser()
	b.do("open the UI", chromedp.Navigate(web.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.login(browserViewerToken, browserViewerName, "viewer")
	b.do("laptop width", chromedp.EmulateViewport(1366, 900))
	b.open("breaches", "#/breaches")

	if got := b.text(`#view .pager .total`); got != "4.500" {
		t.Errorf("total shown as %q, want 4.500", got)
	}
	if got := b.text(`#view .pager .pager-where`); !strings.HasPrefix(got, "1–100 / 4.500") {
		t.Errorf("where: %q", got)
	}
	if got := b.text(`#view p.zone`); !strings.Contains(got, "giờ Hà Nội (UTC+7)") {
		t.Errorf("the times are not labelled: %q", got)
	}
	first := b.rowIDs()
	if len(first) != 100 {
		t.Fatalf("%d rows on the first page, want 100", len(first))
	}
	if !slices.Equal(first, ids(want.Items[:100])) {
		t.Errorf("first page %v…, want the 100 most late %v…", first[:3], ids(want.Items[:3]))
	}
	// Names, with the codes on hover.
	row := `#view tr[data-breach="` + fmt.Sprint(first[0]) + `"]`
	agency := want.Items[0].Agency
	if got := b.text(row + ` td.c-org .agency`); got != "Cơ quan "+agency ||
		b.evalString(`document.querySelector(`+browserJS(row+` td.c-org .agency`)+`).title`) != agency {
		t.Errorf("agency shown as %q, want its name with %s on hover", got, agency)
	}
	if got := b.text(row + ` td.c-person`); got != "Cán bộ "+want.Items[0].Official {
		t.Errorf("official shown as %q", got)
	}
	b.checkWidths("breaches")
	// A name narrows the list to it.
	b.do("filter by an agency's name", chromedp.Click(chromedp.CSS(row+` td.c-org a.filter-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/breaches?agency=`+agency+`"]:not([aria-busy])`)))
	if got := b.text(`#view .pager .total`); got != "1.500" {
		t.Errorf("one agency's open breaches: total %q, want 1.500", got)
	}
	b.open("breaches", "#/breaches")

	b.do("next page", chromedp.Click(chromedp.CSS(`#view .pager button[data-action="next-page"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route^="#/breaches?cursor="]:not([aria-busy])`)))
	second := b.rowIDs()
	if len(second) != 100 || second[0] != want.Items[100].ID || !slices.Equal(second, ids(want.Items[100:200])) {
		t.Errorf("second page starts with %d, want %d, the one after the first page's last (%d)",
			second[0], want.Items[100].ID, first[99])
	}
	if got := b.text(`#view .pager .pager-where`); !strings.HasPrefix(got, "101–200 / 4.500") {
		t.Errorf("where on page 2: %q", got)
	}
	b.do("previous page", chromedp.Click(chromedp.CSS(`#view .pager button[data-action="prev-page"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/breaches"]:not([aria-busy])`)))
	if again := b.rowIDs(); !slices.Equal(again, first) {
		t.Errorf("previous page: %v…, want the first page again", again[:3])
	}

	// A search by receipt number, kept in the address; its dossier's page.
	b.do("search a receipt number", chromedp.SetValue(chromedp.CSS(`#view form.filters input[name="q"]`), storetest.SeedReceipt(4321)),
		chromedp.Click(chromedp.CSS(`#view form.filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/breaches?q=`+storetest.SeedReceipt(4321)+`"]:not([aria-busy])`)))
	if got := b.text(`#view .pager .total`); got != "1" {
		t.Errorf("search: total %q, want 1", got)
	}
	b.do("open the dossier", chromedp.Click(chromedp.CSS(`#view a.dossier-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/dossiers/`+storetest.SeedSource+`/`+storetest.SeedCode(4321)+`"] .dossier`)))

	// A mailed link with filters opens as it was sent.
	b.do("a mailed link", chromedp.Navigate(web.URL+"/#/breaches?state=all&kind=overdue&sort=detected"),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/breaches?state=all&kind=overdue&sort=detected"]:not([aria-busy])`)))
	if got := b.evalString(`document.querySelector('#view form.filters select[name="kind"]').value + " " +
		document.querySelector('#view form.filters select[name="sort"]').value`); got != "overdue detected" {
		t.Errorf("filters shown as %q", got)
	}
	if n := b.count(`#view tr[data-breach]:not([data-kind="overdue"])`); n != 0 {
		t.Errorf("%d breaches of other kinds listed", n)
	}
	if got := b.text(`#view .pager .total`); got != "334" {
		t.Errorf("overdue breaches: total %q, want 334", got)
	}
	// The emails and the job runs, a page at a time too.
	b.open("emails", "#/emails")
	if got := b.text(`#view .pager .total`); got != "120" {
		t.Errorf("emails: total %q, want 120", got)
	}
	if got := b.text(`#view tr[data-notification] td.c-person span`); !strings.HasPrefix(got, "Cán bộ ") {
		t.Errorf("recipient shown as %q, want the name", got)
	}
	b.checkWidths("emails")
	b.do("emails, next page", chromedp.Click(chromedp.CSS(`#view .pager button[data-action="next-page"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route^="#/emails?cursor="]:not([aria-busy])`)))
	if n := b.count(`#view tr[data-notification]`); n != 20 {
		t.Errorf("emails, page 2: %d rows, want 20", n)
	}
	b.do("job runs", chromedp.Navigate(web.URL+"/#/jobs/runs"),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="#/jobs/runs"]:not([aria-busy]) [data-tab="runs"]`)))
	if got := b.text(`#view .pager .total`); got != "130" {
		t.Errorf("runs: total %q, want 130", got)
	}
	if got := b.text(`#view tr[data-run] td.c-counts`); !strings.Contains(got, "12.345") {
		t.Errorf("counts shown as %q, want Vietnamese digits", got)
	}
	b.checkWidths("runs")
	b.checkConsole()
}

// browserServer serves the admin API and UI over db, with its queue on an
// in-process miniredis and the wall clock, until the test ends; edit adds
// to the options.
func browserServer(t *testing.T, db *store.DB, edit func(*admin.Options)) *httptest.Server {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	opts := admin.Options{Tokens: browserTokens(), Store: db, Queue: jobs.NewInspector(rdb), Queues: jobs.Queues(),
		Logger: slog.New(slog.DiscardHandler), Clock: clock.Func(time.Now)}
	edit(&opts)
	h, err := admin.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	return web
}

// rowIDs returns the ids of the breaches the page lists, in order.
func (b *browserTab) rowIDs() []int64 {
	b.t.Helper()
	var out []int64
	raw := b.eval(`[...document.querySelectorAll("#view tr[data-breach]")].map((r) => Number(r.dataset.breach))`)
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Fatal(err)
	}
	return out
}

func ids(bs []dvcwatch.StoredBreach) []int64 {
	out := make([]int64, len(bs))
	for i, x := range bs {
		out[i] = x.ID
	}
	return out
}
