package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/internal/browsertest"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// The browser tests' fixtures.
const (
	browserChromium     = "/usr/bin/chromium"
	browserRedisDB      = 10 // owned by these tests, flushed at start
	browserAdminName    = "quantri-ui"
	browserAdminToken   = "browser-admin-token-7f3c9a1e"
	browserViewerName   = "xem-ui"
	browserViewerToken  = "browser-viewer-token-2b8d4e6f"
	browserFlakyType    = "browser:flaky"
	browserTickType     = "browser:tick"
	browserFailure      = "portal answered 503 Service Unavailable (browser test failure)"
	browserScheduleName = "sync-onestop"
	// The task id holds ':' and '@' like the scheduler's, so that the UI must
	// encode it in the paths it calls.
	browserTaskID = "browser:flaky@2026-03-02T01:00:00Z"
	// A sync the portal refused, and the mail server's refusals.
	browserRejected   = `onestop "onestop": token: bad credentials for user "giamsat": HTTP 401 Unauthorized: {"error":"invalid_credentials"}`
	browserRejectedID = "sync-onestop@2026-03-02T00:00:00Z"
	browserSMTPDown   = "send email <x@x.example> via smtp.x.example:587: dial failed: dial tcp 10.0.0.5:587: connect: connection refused"
)

// browserTokens are an administrator's and a viewer's tokens.
func browserTokens() []config.Token {
	return []config.Token{
		{Name: browserAdminName, Role: config.AdminAdmin, Token: config.NewSecret(browserAdminToken)},
		{Name: browserViewerName, Role: config.AdminViewer, Token: config.NewSecret(browserViewerToken)},
	}
}

// TestUIServesPagesWithSecurityHeaders checks the page and its files are
// served with their types and the security headers, and the API is left as
// it was.
func TestUIServesPagesWithSecurityHeaders(t *testing.T) {
	h, err := admin.New(admin.Options{Tokens: browserTokens(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, tc := range []struct {
		path, typ, body string
	}{
		{"/", "text/html; charset=utf-8", `<script src="/ui/app.js" defer></script>`},
		{"/ui/app.js", "text/javascript; charset=utf-8", `X-Dvcwatch-Request`},
		{"/ui/app.css", "text/css; charset=utf-8", `.table-wrap`},
		{"/ui/kinds.js", "text/javascript; charset=utf-8", `{"kind":"overdue","label":"Quá hạn"}`},
		{"/ui/causes.js", "text/javascript; charset=utf-8", `{"cause":"portal_credentials","title":"Cổng từ chối tài khoản đăng nhập"`},
	} {
		res, body := browserGet(t, srv.URL+tc.path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", tc.path, res.Status)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.typ {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.typ)
		}
		if !strings.Contains(body, tc.body) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.body)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", tc.path, csp, d)
			}
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", tc.path, k, got, want)
			}
		}
	}
	for _, path := range []string{"/ui/nope.js", "/ui/", "/ui/../admin.go"} {
		if res, _ := browserGet(t, srv.URL+path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, res.Status)
		}
	}
	if res, body := browserGet(t, srv.URL+"/api/v1/whoami"); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Errorf("GET /api/v1/whoami without credentials: %s %s", res.Status, body)
	}
	if res, body := browserGet(t, srv.URL+"/healthz"); res.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz: %s %q", res.Status, body)
	}
}

func browserGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestUIBrowserRetriesArchivedTask drives the web UI in Chromium over a real
// store, asynq queue and scheduler: a viewer sees the archived task but no
// Retry; an administrator retries it once its handler works again, and sees it
// completed and its failure marked retried by them. On the way it checks the
// dashboard, the cron editor's error message and an email's detail view, and
// that the page raised no script error or CSP violation; and silences a
// breach and expires the silence.
func TestUIBrowserRetriesArchivedTask(t *testing.T) {
	ctx, openBrowser := browserTest(t, 60*time.Second)
	rdb := browserRedis(t)
	quiet := slog.New(slog.DiscardHandler)

	db, err := store.Open(ctx, store.DriverSQLite, filepath.Join(t.TempDir(), "ui.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Three delivery attempts in a row refused by the mail server: failing
	// (added before the email the test opens, which must be the newest).
	for i := range 3 {
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprintf("smtp-down-%d", i), Kind: "alert",
			Recipient: "cb-0002", Email: "tran.thi.b@x.example", Subject: "Hồ sơ sắp đến hạn", Text: "t"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimNotification(ctx, id, time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkAttemptFailed(ctx, id, time.Now(), browserSMTPDown, false); err != nil {
			t.Fatal(err)
		}
	}
	const emailHTML = `<!DOCTYPE html><html><body style="color: rgb(1, 2, 3)">` +
		`<p id="greeting">Kính gửi anh Nguyễn Văn A,</p><script>document.body.dataset.ran = "yes"</script><p id="end">—</p></body></html>`
	if _, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{
		DedupeKey: "browser-1", Kind: "alert", Recipient: "cb-0001", Email: "nguyen.van.a@x.example",
		Subject: "[dvcwatch] 1 hồ sơ quá hạn", Text: "Kính gửi anh Nguyễn Văn A,\nHồ sơ 000.00.00.H01-260301-0001 đã quá hạn.",
		HTML: emailHTML, Items: 1,
	}, time.Now()); err != nil {
		t.Fatal(err)
	}

	browserBreach(ctx, t, db)

	// The one-stop system rejected the password: the connector is stopped,
	// and its failed sync is recorded with its cause, as the worker does.
	tracker := health.New(health.Options{Store: worker.HealthStore(db), Logger: quiet, Config: &config.Config{
		Connectors: []config.Connector{{Name: "onestop", Kind: config.KindOneStop, BaseURL: "https://motcua.example"}},
		Schedules:  []config.Schedule{{Name: browserScheduleName, Job: config.JobSync, Connector: "onestop", Cron: "0 2 * * *"}},
	}})
	rejected := &httpx.Error{Connector: `onestop "onestop"`, Call: "token", Permanent: true,
		Err: errors.New(strings.TrimPrefix(browserRejected, `onestop "onestop": token: `))}
	tracker.Record(ctx, "onestop", rejected)
	if err := db.RecordFailedTask(ctx, dvcwatch.FailedTask{TaskID: browserRejectedID, Queue: jobs.Queue, Type: jobs.TypeSync,
		Payload: `{"connector":"onestop"}`, Error: rejected.Error() + ": skip retry for the task", Cause: failure.Of(rejected),
		FailedAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// The queue: a task type that fails while failing is set, its failures
	// recorded in SQL as the worker records them.
	var failing atomic.Bool
	failing.Store(true)
	mux := asynq.NewServeMux()
	mux.HandleFunc(browserFlakyType, func(context.Context, *asynq.Task) error {
		if failing.Load() {
			return errors.New(browserFailure)
		}
		return nil
	})
	mux.HandleFunc(browserTickType, func(context.Context, *asynq.Task) error { return nil })
	worker := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Queues: map[string]int{jobs.Queue: 1}, Concurrency: 2, LogLevel: asynq.ErrorLevel, ShutdownTimeout: 2 * time.Second,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, task *asynq.Task, err error) {
			if rerr := browserRecordFailure(ctx, db, task, err); rerr != nil {
				t.Errorf("record failure: %v", rerr)
			}
		}),
	})
	if err := worker.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer worker.Shutdown()
	client := asynq.NewClientFromRedisClient(rdb)
	inspector := jobs.NewInspector(rdb)

	sched := scheduler.New(scheduler.Options{
		Client: client, Ticks: db, Overrides: db, Logger: quiet,
		Schedules: []config.Schedule{{Name: browserScheduleName, Cron: "0 2 * * *", Job: config.JobSync, Connector: "onestop",
			Timezone: config.DefaultTimezone}},
		Task: func(config.Schedule, time.Time, bool) (*asynq.Task, error) {
			return asynq.NewTask(browserTickType, nil, asynq.Queue(jobs.Queue)), nil
		},
	})
	schedCtx, stopSched := context.WithCancel(ctx)
	schedDone := make(chan error, 1)
	go func() { schedDone <- sched.Run(schedCtx) }()
	defer func() {
		stopSched()
		if err := <-schedDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("scheduler: %v", err)
		}
	}()

	h, err := admin.New(admin.Options{
		Tokens: browserTokens(), Store: db, Queue: inspector, Queues: jobs.Queues(), Schedules: sched,
		Requeue: jobs.Requeuer(client), Logger: quiet, Health: tracker,
		Officials: func(id string) bool { return id == "cb-0001" },
	})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	defer web.Close()

	task := asynq.NewTask(browserFlakyType, []byte(`{"connector":"onestop"}`), asynq.TaskID(browserTaskID),
		asynq.Queue(jobs.Queue), asynq.MaxRetry(0), asynq.Retention(time.Hour))
	if _, err := client.EnqueueContext(ctx, task); err != nil {
		t.Fatal(err)
	}
	browserWaitArchived(ctx, t, inspector, browserTaskID)

	b := openBrowser()

	// A viewer sees, above every view, a banner for the stopped connector
	// and one for the mail server, each with its raw error behind a toggle.
	b.do("open the UI", chromedp.Navigate(web.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.login(browserViewerToken, browserViewerName, "viewer")
	connectorBanner := `#banners div.banner[data-banner="connector"][data-connector="onestop"]`
	smtpBanner := `#banners div.banner[data-banner="smtp"]`
	b.do("banners", chromedp.WaitVisible(chromedp.CSS(connectorBanner)), chromedp.WaitVisible(chromedp.CSS(smtpBanner)))
	if got := b.text(connectorBanner); !strings.Contains(got, "Kết nối onestop đã dừng từ") ||
		!strings.Contains(got, "Cổng từ chối tài khoản đăng nhập") || !strings.Contains(got, "dvcwatch schedules run "+browserScheduleName) {
		t.Errorf("connector banner: %q", got)
	}
	if got := b.text(smtpBanner); !strings.Contains(got, "Máy chủ thư đang lỗi") || !strings.Contains(got, "3 lần gửi thư gần nhất đều thất bại") {
		t.Errorf("mail server banner: %q", got)
	}
	if n := b.count(`#banners div.banner`); n != 2 {
		t.Errorf("%d banners, want the connector's and the mail server's", n)
	}
	b.do("open the banner's raw error", chromedp.Click(chromedp.CSS(connectorBanner+" details.raw summary")),
		chromedp.WaitVisible(chromedp.CSS(connectorBanner+" details.raw[open] pre.raw")))
	if got := b.text(connectorBanner + " pre.raw"); !strings.HasPrefix(got, browserRejected) {
		t.Errorf("connector banner's raw error: %q", got)
	}

	// The viewer sees the failed task and its error, and no Retry.
	archivedRow := `#view[data-route="#/jobs/archived"] tr[data-task-id="` + browserTaskID + `"]`
	b.open("jobs", "#/jobs")
	b.do("viewer opens Jobs, archived", chromedp.Click(chromedp.CSS(`a[data-tab="archived"]`)), chromedp.WaitVisible(chromedp.CSS(archivedRow)))
	// No cause explains it: it is grouped as unclassified, its error shown.
	if got := b.text(archivedRow + " td.err details.raw[open] pre.raw"); got != browserFailure {
		t.Errorf("archived task's error as the viewer sees it: %q, want %q", got, browserFailure)
	}
	if n := b.count(`#view section.cause-group[data-cause="unknown"] tr[data-task-id="` + browserTaskID + `"]`); n != 1 {
		t.Errorf("the archived task is not in the unclassified group")
	}
	if n := b.count(archivedRow + ` button[data-action="retry"]:not([disabled])`); n != 0 {
		t.Errorf("the viewer sees %d enabled Retry buttons on the archived task", n)
	}
	if n := b.count(`button[data-action="retry-archived"]`); n != 0 {
		t.Errorf("the viewer sees %d Retry all buttons", n)
	}
	b.open("silences", "#/silences")
	if n := b.count(`#view form.silence-form`); n != 0 {
		t.Errorf("the viewer sees %d forms to add a silence", n)
	}
	b.do("viewer logs out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if n := b.count(archivedRow); n != 0 {
		t.Errorf("after logout the page still shows the task")
	}
	if n := b.count(`#banners div.banner`); n != 0 {
		t.Errorf("after logout the page still shows %d banners", n)
	}

	// The administrator lands on the dashboard, which counts the failure.
	b.login(browserAdminToken, browserAdminName, "admin")
	b.open("dashboard", "#/dashboard")
	if got := b.text(`#view a[data-count="failed-open"]`); got != "2" { // the task and the rejected sync
		t.Errorf("dashboard's open failed jobs: %q, want 2", got)
	}
	// The stopped connector never synced; its state says so, with its one
	// failure and its cause.
	if got := b.text(`#view [data-connector-state="onestop"]`); !strings.Contains(got, "Đã dừng") {
		t.Errorf("dashboard's onestop state: %q", got)
	}
	if got := b.text(`#view [data-connector-detail="onestop"]`); !strings.Contains(got, "Chưa đồng bộ được lần nào") ||
		!strings.Contains(got, "1 lần lỗi liên tiếp") || !strings.Contains(got, "Cổng từ chối tài khoản đăng nhập") {
		t.Errorf("dashboard's onestop details: %q", got)
	}
	if got := b.text(`#view [data-smtp-state="failing"]`); !strings.Contains(got, "Đang lỗi") {
		t.Errorf("dashboard's mail server state: %q", got)
	}
	b.checkWidths("dashboard")

	// The task is archived with its error; once its handler works, Retry
	// runs it to completion.
	b.open("jobs", "#/jobs")
	b.do("admin opens Jobs, archived", chromedp.Click(chromedp.CSS(`a[data-tab="archived"]`)),
		chromedp.WaitVisible(chromedp.CSS(archivedRow+` button[data-action="retry"]`)))
	if got := b.text(archivedRow + " td.err pre.raw"); got != browserFailure {
		t.Errorf("archived task's error: %q, want %q", got, browserFailure)
	}
	failing.Store(false)
	b.do("retry", chromedp.Click(chromedp.CSS(archivedRow+` button[data-action="retry"]`)),
		chromedp.WaitVisible(chromedp.CSS("#msg")), chromedp.WaitNotPresent(chromedp.CSS(archivedRow)))
	if got := b.text("#msg-text"); !strings.Contains(got, browserTaskID) || b.count("#msg.error") != 0 {
		t.Errorf("message after Retry: %q", got)
	}
	completedRow := `#view[data-route="#/jobs/completed"] tr[data-task-id="` + browserTaskID + `"]`
	b.do("the task completes", chromedp.Click(chromedp.CSS(`a[data-tab="completed"]`)), chromedp.WaitVisible(chromedp.CSS(completedRow)))
	failedRow := `#view[data-route="#/jobs/failed"] tr[data-task-id="` + browserTaskID + `"]`
	b.do("failure history", chromedp.Click(chromedp.CSS(`a[data-tab="failed"]`)),
		chromedp.WaitVisible(chromedp.CSS(failedRow+`[data-resolution="retried"]`)))
	if got := b.text(failedRow + " td.resolved-by"); got != browserAdminName {
		t.Errorf("failure retried by %q, want %q", got, browserAdminName)
	}
	if got := b.text(failedRow + " td.err pre.raw"); got != browserFailure {
		t.Errorf("failure history's error: %q, want %q", got, browserFailure)
	}

	// The rejected sync is grouped under its cause, explained in Vietnamese
	// with what to do; its raw error waits behind a toggle.
	group := `#view section.cause-group[data-cause="portal_credentials"]`
	rejectedRow := group + ` tr[data-task-id="` + browserRejectedID + `"]`
	if got := b.text(group + " h2"); !strings.HasPrefix(got, "Cổng từ chối tài khoản đăng nhập · portal credentials rejected") ||
		b.text(group+" h2 .count") != "1" {
		t.Errorf("the credentials group's heading: %q", got)
	}
	if got := b.text(group + " p.hint"); !strings.Contains(got, "username/password") {
		t.Errorf("the credentials group's advice: %q", got)
	}
	if n := b.count(rejectedRow + " td.err details.raw:not([open])"); n != 1 {
		t.Errorf("the rejected sync's raw error is not behind a closed toggle")
	}
	b.do("open the raw error", chromedp.Click(chromedp.CSS(rejectedRow+" td.err details.raw summary")),
		chromedp.WaitVisible(chromedp.CSS(rejectedRow+" td.err details.raw[open] pre.raw")))
	if got := b.text(rejectedRow + " td.err pre.raw"); !strings.HasPrefix(got, browserRejected) {
		t.Errorf("the rejected sync's raw error: %q", got)
	}

	// The cron editor shows the server's refusal verbatim, then saves.
	scheduleRow := `#view tr[data-schedule="` + browserScheduleName + `"]`
	b.open("schedules", "#/schedules")
	b.do("edit the cron", chromedp.Click(chromedp.CSS(scheduleRow+` button[data-action="edit-cron"]`)),
		chromedp.SetValue(chromedp.CSS(scheduleRow+` input[name="cron"]`), "*/5 * *"),
		chromedp.Click(chromedp.CSS(scheduleRow+` button[data-action="save-cron"]`)),
		chromedp.WaitVisible(chromedp.CSS(scheduleRow+` .cron-error`)))
	want := `schedule ` + browserScheduleName + `: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`
	if got := b.text(scheduleRow + ` .cron-error`); got != want {
		t.Errorf("cron editor's error: %q, want %q", got, want)
	}
	b.do("save a valid cron", chromedp.SetValue(chromedp.CSS(scheduleRow+` input[name="cron"]`), "*/30 * * * *"),
		chromedp.Click(chromedp.CSS(scheduleRow+` button[data-action="save-cron"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(scheduleRow+` input[name="cron"]`)))
	if got := b.text(scheduleRow + ` td.cron code`); got != "CRON_TZ=Asia/Ho_Chi_Minh */30 * * * *" {
		t.Errorf("cron in force after the change: %q", got)
	}

	// An email opens with its text in a <pre> and its HTML in a sandboxed
	// srcdoc, styled by its inline styles and with its script blocked.
	b.open("emails", "#/emails")
	b.do("open an email", chromedp.Click(chromedp.CSS(`#view tr[data-notification] a`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route^="#/emails/"] .detail iframe.email`)))
	if got := b.text(`#view .detail h1.subject`); got != "[dvcwatch] 1 hồ sơ quá hạn" {
		t.Errorf("email subject: %q", got)
	}
	if got := b.text(`#view .detail dd.recipient`); got != "cb-0001 <nguyen.van.a@x.example>" {
		t.Errorf("email recipient: %q", got)
	}
	if got := b.text(`#view pre.email-text`); !strings.Contains(got, "Hồ sơ 000.00.00.H01-260301-0001 đã quá hạn.") {
		t.Errorf("email text part: %q", got)
	}
	frame := b.eval(`(() => { const f = document.querySelector("#view iframe.email");
		return {sandbox: f.getAttribute("sandbox"), srcdoc: f.srcdoc}; })()`)
	var fr struct {
		Sandbox *string
		Srcdoc  string
	}
	if err := json.Unmarshal(frame, &fr); err != nil {
		t.Fatal(err)
	}
	if fr.Sandbox == nil || *fr.Sandbox != "" || fr.Srcdoc != emailHTML {
		t.Errorf("email iframe: sandbox %v, srcdoc %q", fr.Sandbox, fr.Srcdoc)
	}
	b.checkEmailFrame()

	// A breach, from the dashboard's count, acknowledged on behalf of its
	// official.
	breachRow := `#view[data-route="#/breaches?kind=overdue"] tr[data-breach][data-kind="overdue"]`
	b.open("dashboard", "#/dashboard")
	b.do("breaches from the dashboard", chromedp.Click(chromedp.CSS(`#view a[href="#/breaches?kind=overdue"]`)),
		chromedp.WaitVisible(chromedp.CSS(breachRow)))
	if got := b.text(breachRow + " td.c-kind"); !strings.HasPrefix(got, "Quá hạn") {
		t.Errorf("breach kind shown as %q", got)
	}
	b.do("acknowledge", chromedp.Click(chromedp.CSS(breachRow+` button[data-action="ack"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view form.ack input[name="reason"]`)),
		chromedp.SendKeys(chromedp.CSS(`#view form.ack input[name="reason"]`), "Đã liên hệ công dân, chờ bổ sung giấy tờ"),
		chromedp.Click(chromedp.CSS(`#view form.ack button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#view form.ack`)), chromedp.WaitVisible(chromedp.CSS("#msg")))
	if got := b.text("#msg-text"); !strings.Contains(got, "HS-UI-001") || b.count("#msg.error") != 0 {
		t.Errorf("message after acknowledging: %q", got)
	}

	b.silenceBreach(breachRow)

	b.checkConsole()
}

// silenceBreach silences the breach of row from its button: the form comes
// with its dossier and kind; the server's refusal of an end in the past is
// shown as the server words it; the silence added is listed with its author,
// and the breach shown as silenced until the silence is expired.
func (b *browserTab) silenceBreach(row string) {
	t := b.t
	t.Helper()
	form := `#view[data-route="#/silences?dossier=HS-UI-001&kind=overdue"] form.silence-form`
	b.do("silence the breach from its row", chromedp.Click(chromedp.CSS(row+` button[data-action="silence"]`)),
		chromedp.WaitVisible(chromedp.CSS(form)))
	if got := b.evalString(`document.querySelector('#view form.silence-form input[name="dossier"]').value + " " +
		document.querySelector('#view form.silence-form select[name="kind"]').value`); got != "HS-UI-001 overdue" {
		t.Errorf("silence form prefilled with %q, want the breach's dossier and kind", got)
	}
	b.do("an end in the past", chromedp.SetValue(chromedp.CSS(form+` input[name="ends_at"]`), "2020-01-01 08:00"),
		chromedp.SetValue(chromedp.CSS(form+` input[name="reason"]`), "Công dân xin hoãn, chờ giấy tờ"),
		chromedp.Click(chromedp.CSS(form+` button[data-action="add-silence"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+` .silence-error`)))
	if got, want := b.text(form+` .silence-error`), "ends_at 2020-01-01T08:00:00+07:00: not in the future"; got != want {
		t.Errorf("silence form's error: %q, want %q", got, want)
	}
	silenceRow := `#view[data-route="#/silences"] tr[data-silence][data-active="true"]`
	b.do("add the silence for 72h", chromedp.SetValue(chromedp.CSS(form+` input[name="ends_at"]`), " "), // blank: the form trims it
		chromedp.SetValue(chromedp.CSS(form+` input[name="duration"]`), "72h"),
		chromedp.Click(chromedp.CSS(form+` button[data-action="add-silence"]`)),
		chromedp.WaitVisible(chromedp.CSS(silenceRow)))
	if got := b.text(silenceRow + ` td.matchers`); got != "kind=overduedossier=HS-UI-001" {
		t.Errorf("silence's matchers shown as %q", got)
	}
	if got := b.text(silenceRow + ` td.created-by`); got != browserAdminName {
		t.Errorf("silence created by %q, want %q", got, browserAdminName)
	}
	if got := b.text(silenceRow + ` td.reason`); got != "Công dân xin hoãn, chờ giấy tờ" {
		t.Errorf("silence's reason shown as %q", got)
	}
	if got := b.text("#msg-text"); !strings.Contains(got, "Đã tắt cảnh báo #") || b.count("#msg.error") != 0 {
		t.Errorf("message after silencing: %q", got)
	}
	id := b.evalString(`document.querySelector(` + browserJS(silenceRow) + `).dataset.silence`)

	silenced := `#view[data-route="#/breaches"] tr[data-breach][data-kind="overdue"]`
	b.open("breaches", "#/breaches")
	if got := b.text(silenced + `[data-silenced="true"] .state.silenced`); got != "Đã tắt cảnh báo #"+id {
		t.Errorf("silenced breach's badge: %q, want silence #%s", got, id)
	}
	if n := b.count(silenced + ` button[data-action="silence"]`); n != 0 {
		t.Errorf("a silenced breach offers to silence it again")
	}

	b.open("silences", "#/silences")
	b.do("expire the silence", chromedp.Click(chromedp.CSS(silenceRow+` button[data-action="expire"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(silenceRow)))
	if got := b.text("#msg-text"); !strings.Contains(got, "#"+id) || b.count("#msg.error") != 0 {
		t.Errorf("message after expiring: %q", got)
	}
	b.open("breaches", "#/breaches")
	if n := b.count(silenced + `[data-silenced="false"]`); n != 1 {
		t.Errorf("the breach is still shown silenced after the expiry")
	}
}

// browserBreach records an open overdue breach of a stored dossier.
func browserBreach(ctx context.Context, t *testing.T, db *store.DB) {
	t.Helper()
	at := time.Now().Add(-10 * 24 * time.Hour).UTC()
	key := dvcwatch.DossierKey{Source: "onestop", Code: "HS-UI-001"}
	d := dvcwatch.Dossier{Key: key, ProcedureName: "Đăng ký khai sinh", Agency: "UBND-XA-01", Status: dvcwatch.StatusInProgress,
		RawStatus: "4", ReceivedAt: at, DueAt: at.AddDate(0, 0, 5), SourceUpdatedAt: at}
	if _, err := db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: []dvcwatch.Dossier{d}}); err != nil {
		t.Fatal(err)
	}
	br := dvcwatch.Breach{Kind: dvcwatch.BreachOverdue, Key: key, Official: "cb-0001", Department: "Phòng Tư pháp",
		Severity: dvcwatch.SeverityWarning, StartedAt: d.DueAt, DueAt: d.DueAt, Detail: "quá hạn 5 ngày làm việc"}
	if _, err := detect.RecordPage(ctx, detect.TxOf(db.InTx), detect.Page{Now: time.Now(),
		Dossiers: []dvcwatch.Evaluation{{Key: key, Agency: d.Agency, Open: true, Breaches: []dvcwatch.Breach{br}}}}); err != nil {
		t.Fatal(err)
	}
}

// browserExecPath returns Chromium's path; without it the test is skipped,
// except in CI, where .ci/run installs it.
func browserExecPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(browserChromium); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no browser at %s (apt-get install chromium); CI runs this test", browserChromium)
		}
		t.Fatalf("CI is set and %s is missing: %v", browserChromium, err)
	}
	return browserChromium
}

// browserRedis returns a client of the test Redis's database 10, flushed;
// DVCWATCH_TEST_REDIS=off skips the test, another value is its address.
func browserRedis(t *testing.T) *redis.Client {
	t.Helper()
	addr := os.Getenv("DVCWATCH_TEST_REDIS")
	switch addr {
	case "off":
		t.Skip("DVCWATCH_TEST_REDIS=off")
	case "":
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr, DB: browserRedisDB})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s: %v\nstart it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no", addr, err)
	}
	return c
}

// browserRecordFailure keeps an archived task in SQL, as the worker does.
func browserRecordFailure(ctx context.Context, db *store.DB, task *asynq.Task, err error) error {
	id, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried < maxRetry && !errors.Is(err, asynq.SkipRetry) {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return db.RecordFailedTask(rctx, dvcwatch.FailedTask{TaskID: id, Queue: queue, Type: task.Type(),
		Payload: string(task.Payload()), Error: err.Error(), Retried: retried, FailedAt: time.Now()})
}

// browserWaitArchived waits until the queue has archived task id.
func browserWaitArchived(ctx context.Context, t *testing.T, q jobs.Inspector, id string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := q.GetTaskInfo(jobs.Queue, id)
		if err == nil && info.State == asynq.TaskStateArchived {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("task %s was not archived: %v (last: %v)", id, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// browserTab is a Chromium tab and what its page wrote to the console.
type browserTab struct {
	t      *testing.T
	ctx    context.Context
	cancel func()
	closed atomic.Bool // close was called: chromedp may still log

	mu      sync.Mutex
	console []string // "level: text", exceptions included
}

// browserTest is a browser test's setup: it skips the test where Chromium
// is missing, and returns a context that ends after timeout (or with the
// test) and a function that starts the browser on it, closed with the test.
func browserTest(t *testing.T, timeout time.Duration) (context.Context, func() *browserTab) {
	t.Helper()
	chromium := browserExecPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx, func() *browserTab {
		t.Helper()
		b := browserStart(ctx, t, chromium)
		t.Cleanup(b.close)
		return b
	}
}

// browserStart starts Chromium with the field notes' flags and a fresh
// profile, and opens a tab that lives until ctx ends or close is called.
func browserStart(ctx context.Context, t *testing.T, execPath string) *browserTab {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	b := &browserTab{t: t}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(b.logf))
	b.ctx, b.cancel = tabCtx, func() { b.closed.Store(true); cancelTab(); cancelAlloc() }
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser
		b.cancel()
		t.Fatalf("start %s: %v", execPath, err)
	}
	if err := chromedp.Listen(tabCtx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			line = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				line += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			line = "console." + string(ev.Type) + ":"
			for _, a := range ev.Args {
				line += " " + string(a.Value) + a.Description
			}
		case *log.EventEntryAdded:
			line = string(ev.Entry.Level) + ": " + ev.Entry.Text
		default:
			return
		}
		b.mu.Lock()
		b.console = append(b.console, line)
		b.mu.Unlock()
	}); err != nil {
		b.cancel()
		t.Fatal(err)
	}
	return b
}

// close ends the tab and the browser, and waits for the browser to exit.
func (b *browserTab) close() { b.cancel() }

// logf logs chromedp's errors while the test runs.
func (b *browserTab) logf(format string, args ...any) {
	if !b.closed.Load() {
		b.t.Logf("chromedp: "+format, args...)
	}
}

// do runs steps, each run bounded by 30 s; a failure ends the test with
// what the page shows.
func (b *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.state())
	}
}

// state describes the page, for failure messages.
func (b *browserTab) state() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\nmessage: " + document.getElementById("msg").innerText +
		"\nlogin error: " + document.getElementById("login-error").innerText + "\npage:\n" + document.body.innerText.slice(0, 3000)`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return s + "\nconsole:\n" + strings.Join(b.console, "\n")
}

// login logs in with token from the login form and waits for the name and
// role to show.
func (b *browserTab) login(token, name, role string) {
	b.t.Helper()
	b.do("log in as "+name, chromedp.WaitVisible(chromedp.CSS("#login-token")),
		chromedp.SendKeys(chromedp.CSS("#login-token"), token),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#who-name")), chromedp.WaitVisible(chromedp.CSS("#view")))
	if got := b.text("#who-name"); got != name {
		b.t.Errorf("logged in as %q, want %q", got, name)
	}
	if got := b.text("#who-role"); !strings.Contains(got, role) {
		b.t.Errorf("role shown %q, want %s", got, role)
	}
}

// open clicks the top menu's view and waits until the page shows its render
// of route.
func (b *browserTab) open(view, route string) {
	b.t.Helper()
	b.do("open "+view, chromedp.Click(chromedp.CSS(`#nav a[data-view="`+view+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#view[data-route="`+route+`"]:not([aria-busy])`)))
}

// text returns the text content of the first element sel matches.
func (b *browserTab) text(sel string) string {
	b.t.Helper()
	return b.evalString(`(() => { const e = document.querySelector(` + browserJS(sel) + `); return e ? e.textContent.trim() : "(no element)"; })()`)
}

// count returns how many elements sel matches.
func (b *browserTab) count(sel string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+browserJS(sel)+`).length`))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func (b *browserTab) evalString(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// eval returns the JSON of expr's value.
func (b *browserTab) eval(expr string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return raw
}

// checkEmailFrame reads the email's document inside its iframe. Chromium
// runs a sandboxed iframe in a process of its own, so the frame is another
// target, which the test attaches to (the page's own script cannot look in:
// the sandbox makes the frame another origin). The email was rendered with
// its inline style, which the CSP it inherits allows, and its script never
// ran, the sandbox having no allow-scripts: the element after the script is
// parsed, so the script would have run by then.
func (b *browserTab) checkEmailFrame() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	var id target.ID
	for id == "" {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			b.t.Fatalf("list the browser's targets: %v", err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && info.URL == "about:srcdoc" {
				id = info.TargetID
			}
		}
		if id != "" {
			break
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("the email's iframe never started: %v\n%s", ctx.Err(), b.state())
		case <-time.After(100 * time.Millisecond):
		}
	}
	frameCtx, cancelFrame := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	defer cancelFrame()
	fctx, cancel2 := context.WithTimeout(frameCtx, 30*time.Second)
	defer cancel2()
	if err := chromedp.Do(fctx, chromedp.WaitReady(chromedp.CSS("#end"))); err != nil {
		b.t.Fatalf("the email's document in its iframe: %v\n%s", err, b.state())
	}
	greeting, err := chromedp.Run(fctx, chromedp.TextContent(chromedp.CSS("#greeting")))
	if err != nil || greeting != "Kính gửi anh Nguyễn Văn A," {
		b.t.Errorf("the email's greeting in its iframe: %q, %v", greeting, err)
	}
	ran, err := chromedp.Run(fctx, chromedp.AttributeValue(chromedp.CSS("body"), "data-ran"))
	if err != nil {
		b.t.Fatalf("the email's body: %v", err)
	}
	if ran.Exists {
		b.t.Errorf("the email's script ran in its iframe")
	}
	style, err := chromedp.Run(fctx, chromedp.ComputedStyle(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatalf("computed style of the email's body: %v", err)
	}
	color := ""
	for _, p := range style {
		if p.Name == "color" {
			color = p.Value
		}
	}
	if color != "rgb(1, 2, 3)" {
		b.t.Errorf("the email's body has color %q, want its inline style's rgb(1, 2, 3)", color)
	}
}

// checkConsole fails the test for any script error, CSP violation,
// Trusted Types refusal or other error the page reported, except the
// answers the scenario asked for: the 401 of the first visit (not logged in
// yet) and the 400 of the refused cron expression.
func (b *browserTab) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	expected := []string{
		"error: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
		"error: Failed to load resource: the server responded with a status of 400 (Bad Request)",
	}
	for _, line := range b.console {
		switch {
		case strings.HasPrefix(line, "verbose: "), strings.HasPrefix(line, "console.log:"), strings.HasPrefix(line, "console.debug:"):
		case slices.Contains(expected, line):
		default:
			b.t.Errorf("the page reported: %s", line)
		}
	}
}

// browserJS quotes s as a JavaScript string literal.
func browserJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkWidths fails the test for what sticks out sideways at 1366 and 390
// px (the first five things, and how many more), and with
// DVCWATCH_SCREENSHOTS naming a directory writes there the whole page at
// each width and, at a phone's, a screenful at a time as it reads.
func (b *browserTab) checkWidths(name string) {
	t := b.t
	t.Helper()
	shots := os.Getenv("DVCWATCH_SCREENSHOTS")
	shoot := func(file string, action chromedp.Action[[]byte]) {
		png, err := chromedp.Run(b.ctx, action)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, width := range []int{1366, 390} {
		b.do(fmt.Sprintf("viewport %d px", width), chromedp.EmulateViewport(int64(width), 900), chromedp.Sleep(200*time.Millisecond))
		problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](browsertest.Overflow))
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range problems {
			if i == 5 {
				t.Errorf("%s at %d px: and %d more", name, width, len(problems)-5)
				break
			}
			t.Errorf("%s at %d px: %s", name, width, p)
		}
		if shots == "" {
			continue
		}
		shoot(fmt.Sprintf("%s-%d.png", name, width), chromedp.FullScreenshot(100))
		for i := 1; width < 1000 && i <= 6; i++ {
			b.do("scroll", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.scrollTo(0, %d)`, (i-1)*850)), chromedp.Sleep(50*time.Millisecond))
			shoot(fmt.Sprintf("%s-%d-%d.png", name, width, i), chromedp.CaptureScreenshot())
		}
		b.do("back to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	}
	b.do("back to a laptop's width", chromedp.EmulateViewport(1366, 900))
}
