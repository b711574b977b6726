package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store"
)

const queueName = "dvcwatch"

// mailQueue is reported too, and stays empty in these tests.
const mailQueue = "dvcwatch-mail"

var (
	ict = time.FixedZone("ICT", 7*3600)
	t0  = time.Date(2026, 3, 2, 8, 0, 0, 0, ict) // a Monday morning in Hanoi
)

// quiet discards log lines.
var quiet = slog.New(slog.DiscardHandler)

// openStore returns a migrated SQLite store in the test's directory.
func openStore(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.DriverSQLite, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// openRedis returns an in-process client of a miniredis of the test's own.
func openRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{
		Dialer: func(context.Context, string, string) (net.Conn, error) { return mr.Dial() },
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func dossier(source, code string, status dvcwatch.Status, min int) dvcwatch.Dossier {
	return dvcwatch.Dossier{
		Key:             dvcwatch.DossierKey{Source: source, Code: code},
		ProcedureName:   "Đăng ký khai sinh",
		Agency:          "UBND-XA-01",
		Status:          status,
		RawStatus:       fmt.Sprintf("TT%d", status),
		ReceivedAt:      t0,
		DueAt:           t0.AddDate(0, 0, 5),
		Steps:           []dvcwatch.Step{{Seq: 1, Department: "Phòng Tư pháp", Official: "Trần Văn Bình", StartedAt: t0}},
		SourceUpdatedAt: t0.Add(time.Duration(min) * time.Minute),
	}
}

// seed stores, through the store's own methods: three dvcqg dossiers (two in
// progress, one received) with a cursor at t0+10m, one onestop dossier
// without a cursor, two open breaches and one resolved, one notification
// in each state, and two open failed tasks and a resolved one.
func seed(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.ApplyPage(ctx, store.Page{Source: "dvcqg", Dossiers: []dvcwatch.Dossier{
		dossier("dvcqg", "A", dvcwatch.StatusInProgress, 1),
		dossier("dvcqg", "B", dvcwatch.StatusInProgress, 5),
		dossier("dvcqg", "C", dvcwatch.StatusReceived, 10),
	}, Cursor: &store.Cursor{Source: "dvcqg", UpdatedAt: t0.Add(10 * time.Minute), Key: "C"}})
	must(err)
	_, err = db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: []dvcwatch.Dossier{
		dossier("onestop", "X", dvcwatch.StatusProcessed, 2),
	}})
	must(err)

	breach := func(kind dvcwatch.BreachKind, code string, step int) dvcwatch.Breach {
		return dvcwatch.Breach{Kind: kind, Key: dvcwatch.DossierKey{Source: "dvcqg", Code: code}, StepSeq: step,
			Official: "binh", Department: "Phòng Tư pháp", Severity: dvcwatch.SeverityWarning,
			StartedAt: t0, DueAt: t0, Detail: "quá hạn / overdue"}
	}
	eval := func(code string, bs ...dvcwatch.Breach) dvcwatch.Evaluation {
		return dvcwatch.Evaluation{Key: dvcwatch.DossierKey{Source: "dvcqg", Code: code}, Agency: "UBND-XA-01", Open: true, Breaches: bs}
	}
	_, err = detect.RecordPage(ctx, detect.TxOf(db.InTx), detect.Page{Now: t0.Add(time.Hour), Dossiers: []dvcwatch.Evaluation{
		eval("A", breach(dvcwatch.BreachOverdue, "A", 0), breach(dvcwatch.BreachStepOverdue, "A", 1)),
		eval("B", breach(dvcwatch.BreachNoApology, "B", 0)),
	}})
	must(err)
	// A's step is no longer overdue: that breach is resolved.
	_, err = detect.RecordPage(ctx, detect.TxOf(db.InTx), detect.Page{Now: t0.Add(2 * time.Hour), Dossiers: []dvcwatch.Evaluation{
		eval("A", breach(dvcwatch.BreachOverdue, "A", 0)),
	}})
	must(err)

	var ids []int64
	for i := range 3 {
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprintf("digest:binh:%d", i),
			Kind: dvcwatch.NotificationAlerts, Recipient: "binh", Email: "binh@ungtoa.gov.vn", Subject: "s", Text: "t"}, t0)
		must(err)
		ids = append(ids, id)
	}
	must(db.MarkSent(ctx, ids[0], t0.Add(time.Minute)))
	must(db.MarkAttemptFailed(ctx, ids[1], t0.Add(time.Minute), "550 no such user", true))

	for i := range 3 {
		must(db.RecordFailedTask(ctx, dvcwatch.FailedTask{TaskID: fmt.Sprintf("task-%d", i), Queue: queueName,
			Type: "sync:connector", Payload: `{"connector":"dvcqg"}`, Error: "boom", FailedAt: t0.Add(time.Duration(i) * time.Minute)}))
	}
	n, err := db.ResolveFailedTasks(ctx, queueName, []string{"task-0"}, dvcwatch.FailedRetried, "admin")
	must(err)
	if n != 1 {
		t.Fatalf("ResolveFailedTask closed %d, want 1", n)
	}
}

// collector returns a collector of db and q, with the clock at dvcqg's
// cursor + 90 s.
func collector(db Store, q Queue) *Collector {
	return NewCollector(Options{
		Store: db, Queue: q, QueueNames: []string{queueName, mailQueue},
		Connectors: []string{"dvcqg", "onestop", "idle"},
		Clock:      clock.Func(func() time.Time { return t0.Add(10*time.Minute + 90*time.Second) }),
		Timeout:    2 * time.Second,
		Logger:     quiet,
	})
}

// storeText is what seed's store reports.
const storeText = `
# HELP dvcwatch_breaches_open Unresolved breaches by kind.
# TYPE dvcwatch_breaches_open gauge
dvcwatch_breaches_open{kind="due_beyond_limit"} 0
dvcwatch_breaches_open{kind="due_soon"} 0
dvcwatch_breaches_open{kind="finished_late"} 0
dvcwatch_breaches_open{kind="late_apology"} 0
dvcwatch_breaches_open{kind="late_supplement_request"} 0
dvcwatch_breaches_open{kind="new_date_missed"} 0
dvcwatch_breaches_open{kind="no_apology"} 1
dvcwatch_breaches_open{kind="not_received"} 0
dvcwatch_breaches_open{kind="not_synced"} 0
dvcwatch_breaches_open{kind="overdue"} 1
dvcwatch_breaches_open{kind="portal_mismatch"} 0
dvcwatch_breaches_open{kind="refused_late"} 0
dvcwatch_breaches_open{kind="rescheduled_twice"} 0
dvcwatch_breaches_open{kind="step_overdue"} 0
dvcwatch_breaches_open{kind="supplemented_twice"} 0
# HELP dvcwatch_dossiers Stored dossiers by source and national status.
# TYPE dvcwatch_dossiers gauge
dvcwatch_dossiers{source="dvcqg",status="in_progress"} 2
dvcwatch_dossiers{source="dvcqg",status="received"} 1
dvcwatch_dossiers{source="onestop",status="processed"} 1
# HELP dvcwatch_failed_tasks_open Archived tasks no administrator has retried or deleted yet.
# TYPE dvcwatch_failed_tasks_open gauge
dvcwatch_failed_tasks_open 2
# HELP dvcwatch_notifications Outbox notifications by state (pending, sent, failed).
# TYPE dvcwatch_notifications gauge
dvcwatch_notifications{state="failed"} 1
dvcwatch_notifications{state="pending"} 1
dvcwatch_notifications{state="sent"} 1
# HELP dvcwatch_sync_lag_seconds Now minus the source update time of the newest change stored for the connector (its sync cursor).
# TYPE dvcwatch_sync_lag_seconds gauge
dvcwatch_sync_lag_seconds{connector="dvcqg"} 90
# HELP dvcwatch_sync_records Stored dossiers of each configured connector.
# TYPE dvcwatch_sync_records gauge
dvcwatch_sync_records{connector="dvcqg"} 3
dvcwatch_sync_records{connector="idle"} 0
dvcwatch_sync_records{connector="onestop"} 1
`

var storeNames = []string{"dvcwatch_breaches_open", "dvcwatch_dossiers", "dvcwatch_failed_tasks_open",
	"dvcwatch_notifications", "dvcwatch_sync_lag_seconds", "dvcwatch_sync_records"}

// queueText is dvcwatch_queue_tasks with the six counts in state order.
func queueText(pending, active, scheduled, retry, archived, completed int) string {
	return fmt.Sprintf(`
# HELP dvcwatch_queue_tasks Tasks in the asynq queue by state.
# TYPE dvcwatch_queue_tasks gauge
dvcwatch_queue_tasks{queue="dvcwatch",state="active"} %d
dvcwatch_queue_tasks{queue="dvcwatch",state="archived"} %d
dvcwatch_queue_tasks{queue="dvcwatch",state="completed"} %d
dvcwatch_queue_tasks{queue="dvcwatch",state="pending"} %d
dvcwatch_queue_tasks{queue="dvcwatch",state="retry"} %d
dvcwatch_queue_tasks{queue="dvcwatch",state="scheduled"} %d
dvcwatch_queue_tasks{queue="dvcwatch-mail",state="active"} 0
dvcwatch_queue_tasks{queue="dvcwatch-mail",state="archived"} 0
dvcwatch_queue_tasks{queue="dvcwatch-mail",state="completed"} 0
dvcwatch_queue_tasks{queue="dvcwatch-mail",state="pending"} 0
dvcwatch_queue_tasks{queue="dvcwatch-mail",state="retry"} 0
dvcwatch_queue_tasks{queue="dvcwatch-mail",state="scheduled"} 0
`, active, archived, completed, pending, retry, scheduled)
}

// errorsText is dvcwatch_scrape_errors_total with the failing parts at n.
func errorsText(n int, failing ...string) string {
	var b strings.Builder
	b.WriteString(`
# HELP dvcwatch_scrape_errors_total Reads that failed while collecting dvcwatch metrics, by part; that part is missing from the scrape.
# TYPE dvcwatch_scrape_errors_total counter
`)
	for _, p := range slices.Sorted(slices.Values(parts)) {
		v := 0
		for _, f := range failing {
			if f == p {
				v = n
			}
		}
		fmt.Fprintf(&b, "dvcwatch_scrape_errors_total{part=%q} %d\n", p, v)
	}
	return b.String()
}

// compare collects c (in a pedantic registry) and compares the metrics
// named with want.
func compare(t *testing.T, c prometheus.Collector, want string, names ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

// taskServer runs an asynq server on rdb with the job metrics' middleware
// and handlers that succeed, fail (retried in an hour), skip retries, and
// block until release is closed (started is closed when one runs).
func taskServer(t *testing.T, rdb redis.UniversalClient, jm *JobMetrics) (started, release chan struct{}) {
	t.Helper()
	started, release = make(chan struct{}), make(chan struct{})
	mux := asynq.NewServeMux()
	mux.Use(jm.Middleware)
	mux.HandleFunc("test:ok", func(context.Context, *asynq.Task) error { return nil })
	mux.HandleFunc("test:fail", func(context.Context, *asynq.Task) error { return errors.New("portal down") })
	mux.HandleFunc("test:bad", func(context.Context, *asynq.Task) error {
		return fmt.Errorf("bad payload: %w", asynq.SkipRetry)
	})
	mux.HandleFunc("test:block", func(ctx context.Context, _ *asynq.Task) error {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:    1, // the blocking task keeps the later ones pending
		Queues:         map[string]int{queueName: 1},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Hour },
		LogLevel:       asynq.FatalLevel,
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return started, release
}

// waitQueue polls the queue until check accepts its sizes.
func waitQueue(t *testing.T, in jobs.Inspector, what string, check func(*asynq.QueueInfo) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := in.GetQueueInfo(queueName)
		if err == nil && check(info) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: queue %+v, %v", what, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCollector(t *testing.T) {
	t.Parallel()
	db := openStore(t)
	seed(t, db)
	rdb := openRedis(t)
	c := collector(db, jobs.NewInspector(rdb))

	// Nothing was ever enqueued: the queue does not exist yet.
	compare(t, c, storeText+queueText(0, 0, 0, 0, 0, 0)+errorsText(0),
		append(storeNames, "dvcwatch_queue_tasks", "dvcwatch_scrape_errors_total")...)

	// One task in every state.
	jm := NewJobMetrics()
	started, release := taskServer(t, rdb, jm)
	client := asynq.NewClientFromRedisClient(rdb)
	enqueue := func(typ string, opts ...asynq.Option) {
		t.Helper()
		if _, err := client.Enqueue(asynq.NewTask(typ, nil, append([]asynq.Option{asynq.Queue(queueName)}, opts...)...)); err != nil {
			t.Fatal(err)
		}
	}
	in := jobs.NewInspector(rdb)
	enqueue("test:ok", asynq.Retention(time.Hour))
	enqueue("test:fail", asynq.MaxRetry(5))
	enqueue("test:bad")
	waitQueue(t, in, "completed, retry and archived", func(q *asynq.QueueInfo) bool {
		return q.Completed == 1 && q.Retry == 1 && q.Archived == 1
	})
	enqueue("test:block")
	<-started
	enqueue("test:ok")
	enqueue("test:ok")
	enqueue("test:ok", asynq.ProcessIn(time.Hour))
	compare(t, c, queueText(2, 1, 1, 1, 1, 1)+errorsText(0), "dvcwatch_queue_tasks", "dvcwatch_scrape_errors_total")

	// The middleware saw the three runs that ended.
	compare(t, jm, `
# HELP dvcwatch_jobs_total Task runs by task type and outcome (succeeded, failed, skipped_retry).
# TYPE dvcwatch_jobs_total counter
dvcwatch_jobs_total{outcome="failed",type="test:fail"} 1
dvcwatch_jobs_total{outcome="skipped_retry",type="test:bad"} 1
dvcwatch_jobs_total{outcome="succeeded",type="test:ok"} 1
`, "dvcwatch_jobs_total")
	close(release)
}

func TestCollectorStoreDown(t *testing.T) {
	t.Parallel()
	db := openStore(t)
	seed(t, db)
	rdb := openRedis(t)
	if _, err := asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask("test:ok", nil, asynq.Queue(queueName))); err != nil {
		t.Fatal(err)
	}
	c := collector(db, jobs.NewInspector(rdb))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Every store part fails and is counted; the queue is still reported.
	compare(t, c, queueText(1, 0, 0, 0, 0, 0)+errorsText(1, PartDossiers, PartCursors, PartBreaches, PartNotifications, PartFailedTasks),
		append(storeNames, "dvcwatch_queue_tasks", "dvcwatch_scrape_errors_total")...)

	// Served over HTTP, the scrape succeeds with what could be read.
	srv := httptest.NewServer(Handler(NewRegistry(c, NewJobMetrics()), quiet))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %s\n%s", resp.Status, body)
	}
	for _, want := range []string{
		`dvcwatch_queue_tasks{queue="dvcwatch",state="pending"} 1`,
		`dvcwatch_scrape_errors_total{part="dossiers"} 2`, // the second scrape
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics has no %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "dvcwatch_dossiers{") {
		t.Errorf("GET /metrics reports dossiers of a closed store:\n%s", body)
	}
}

func TestCollectorQueueDown(t *testing.T) {
	t.Parallel()
	db := openStore(t)
	seed(t, db)
	// Over TCP: a closed miniredis would start again on the next in-process Dial.
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	c := collector(db, jobs.NewInspector(rdb))
	mr.Close()

	compare(t, c, storeText+errorsText(1, PartQueue),
		append(storeNames, "dvcwatch_queue_tasks", "dvcwatch_scrape_errors_total")...)
}

// hangingQueue answers only when the test ends.
type hangingQueue struct{ done <-chan struct{} }

func (h hangingQueue) GetQueueInfo(string) (*asynq.QueueInfo, error) {
	<-h.done
	return nil, errors.New("too late")
}

func TestCollectorQueueTimeout(t *testing.T) {
	t.Parallel()
	db := openStore(t)
	seed(t, db)
	done := make(chan struct{})
	defer close(done)
	c := collector(db, hangingQueue{done})
	c.opts.Timeout = 200 * time.Millisecond
	compare(t, c, storeText+errorsText(1, PartQueue),
		append(storeNames, "dvcwatch_queue_tasks", "dvcwatch_scrape_errors_total")...)
}

// healthStore is *store.DB as connector health uses it.
type healthStore struct{ *store.DB }

func (s healthStore) InTx(ctx context.Context, fn func(health.Tx) error) error {
	return health.TxOf(s.DB.InTx)(ctx, fn)
}

// TestCollectorHealth reports each configured connector up or not and
// stopped or not, and whether the mail server fails, with exact values.
func TestCollectorHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t)
	cfg := &config.Config{Connectors: []config.Connector{{Name: "dvcqg", Kind: config.KindDVCQG}, {Name: "idle", Kind: config.KindOneStop},
		{Name: "onestop", Kind: config.KindOneStop}}}
	now := t0
	tr := health.New(health.Options{Store: healthStore{db}, Config: cfg, Logger: quiet,
		Clock: clock.Func(func() time.Time { return now })})
	c := collector(db, jobs.NewInspector(openRedis(t)))
	c.opts.Health = tr
	names := []string{"dvcwatch_connector_up", "dvcwatch_connector_stopped", "dvcwatch_smtp_failing"}
	times := []string{"dvcwatch_connector_last_success_timestamp_seconds", "dvcwatch_connector_last_error_timestamp_seconds",
		"dvcwatch_connector_consecutive_failures"}
	// wantTimes is the three per-connector series of the times and the
	// streak, given the lines of the two timestamps (absent when never).
	wantTimes := func(lastError, lastSuccess string, dvcqgFailures, onestopFailures int) string {
		return fmt.Sprintf(`
# HELP dvcwatch_connector_consecutive_failures Failed syncs of the connector since its last success.
# TYPE dvcwatch_connector_consecutive_failures gauge
dvcwatch_connector_consecutive_failures{connector="dvcqg"} %d
dvcwatch_connector_consecutive_failures{connector="idle"} 0
dvcwatch_connector_consecutive_failures{connector="onestop"} %d
# HELP dvcwatch_connector_last_error_timestamp_seconds Unix time of the connector's latest failed sync (absent before its first failure).
# TYPE dvcwatch_connector_last_error_timestamp_seconds gauge
%s
# HELP dvcwatch_connector_last_success_timestamp_seconds Unix time of the connector's last successful sync (absent before its first).
# TYPE dvcwatch_connector_last_success_timestamp_seconds gauge
%s
`, dvcqgFailures, onestopFailures, lastError, lastSuccess)
	}
	unix := func(t time.Time) int64 { return t.Unix() }
	want := func(dvcqgUp, dvcqgStopped, onestopUp, smtp int) string {
		return fmt.Sprintf(`
# HELP dvcwatch_connector_stopped 1 while the connector is stopped after a permanent failure: its scheduled runs are skipped until its configuration changes or a run by hand succeeds.
# TYPE dvcwatch_connector_stopped gauge
dvcwatch_connector_stopped{connector="dvcqg"} %d
dvcwatch_connector_stopped{connector="idle"} 0
dvcwatch_connector_stopped{connector="onestop"} 0
# HELP dvcwatch_connector_up 1 unless the connector's last sync failed (1 before its first).
# TYPE dvcwatch_connector_up gauge
dvcwatch_connector_up{connector="dvcqg"} %d
dvcwatch_connector_up{connector="idle"} 1
dvcwatch_connector_up{connector="onestop"} %d
# HELP dvcwatch_smtp_failing 1 while the latest delivery attempts all failed with an error worth retrying (the mail server down, refusing to relay).
# TYPE dvcwatch_smtp_failing gauge
dvcwatch_smtp_failing %d
`, dvcqgStopped, dvcqgUp, onestopUp, smtp)
	}
	compare(t, c, want(1, 0, 1, 0), names...)

	// onestop syncs once; then dvcqg rejects the password, onestop's portal
	// is down twice, and the mail server refuses connections three times in
	// a row.
	tr.Record(ctx, "onestop", nil)
	succeeded := now
	now = now.Add(time.Hour)
	tr.Record(ctx, "dvcqg", fmt.Errorf(`dvcqg "dvcqg": login: bad credentials for user "x": %w`, connectors.ErrPermanent))
	tr.Record(ctx, "onestop", errors.New(`onestop "onestop": token: gave up after 6 attempts: HTTP 502 Bad Gateway`))
	now = now.Add(time.Minute)
	tr.Record(ctx, "onestop", errors.New(`onestop "onestop": token: gave up after 6 attempts: HTTP 502 Bad Gateway`))
	compare(t, c, wantTimes(fmt.Sprintf(
		"dvcwatch_connector_last_error_timestamp_seconds{connector=\"dvcqg\"} %d\n"+
			"dvcwatch_connector_last_error_timestamp_seconds{connector=\"onestop\"} %d", unix(now.Add(-time.Minute)), unix(now)),
		fmt.Sprintf("dvcwatch_connector_last_success_timestamp_seconds{connector=\"onestop\"} %d", unix(succeeded)), 1, 2), times...)
	var ids []int64
	for i := range 4 {
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprintf("k%d", i), Kind: dvcwatch.NotificationAlerts,
			Recipient: "binh", Email: "binh@ungtoa.gov.vn", Subject: "s", Text: "t"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids[:3] {
		at := t0.Add(time.Duration(i) * time.Minute)
		if _, err := db.ClaimNotification(ctx, id, at, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkAttemptFailed(ctx, id, at, "send email <x> via smtp:25: dial tcp: connect: connection refused", false); err != nil {
			t.Fatal(err)
		}
	}
	compare(t, c, want(0, 1, 0, 1), names...)

	// onestop's portal is back and so is the mail server; dvcqg stays stopped.
	tr.Record(ctx, "onestop", nil)
	if _, err := db.ClaimNotification(ctx, ids[3], t0.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkSent(ctx, ids[3], t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	compare(t, c, want(0, 1, 1, 0), names...)
}

// histogram is the text of one dvcwatch_job_duration_seconds series holding
// one observation of seconds.
func histogram(typ, outcome string, seconds float64) string {
	var b strings.Builder
	labels := fmt.Sprintf("outcome=%q,type=%q", outcome, typ)
	for _, le := range jobBuckets {
		n := 0
		if seconds <= le {
			n = 1
		}
		fmt.Fprintf(&b, "dvcwatch_job_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, le, n)
	}
	fmt.Fprintf(&b, "dvcwatch_job_duration_seconds_bucket{%s,le=\"+Inf\"} 1\n", labels)
	fmt.Fprintf(&b, "dvcwatch_job_duration_seconds_sum{%s} %g\n", labels, seconds)
	fmt.Fprintf(&b, "dvcwatch_job_duration_seconds_count{%s} 1\n", labels)
	return b.String()
}

func TestJobMetrics(t *testing.T) {
	t.Parallel()
	jm := NewJobMetrics()
	clock := t0
	jm.now = func() time.Time { return clock }
	// Each handler takes its time on the fake clock.
	handler := func(d time.Duration, err error) asynq.Handler {
		return jm.Middleware(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
			clock = clock.Add(d)
			return err
		}))
	}
	ctx := context.Background()
	runs := []struct {
		typ  string
		took time.Duration
		err  error
	}{
		{"notify:deliver", 20 * time.Millisecond, nil},
		{"sync:connector", 3 * time.Minute, errors.New("portal down")},
		{"sync:connector", 500 * time.Millisecond, fmt.Errorf("bad payload: %w", asynq.SkipRetry)},
	}
	for _, r := range runs {
		if err := handler(r.took, r.err).ProcessTask(ctx, asynq.NewTask(r.typ, nil)); !errors.Is(err, r.err) {
			t.Errorf("%s: middleware returned %v, want %v", r.typ, err, r.err)
		}
	}
	// A panic is counted as a failure and goes on to asynq, which recovers it.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the middleware swallowed a panic")
			}
		}()
		_ = jm.Middleware(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
			clock = clock.Add(2 * time.Second)
			panic("nil map")
		})).ProcessTask(ctx, asynq.NewTask("detect:run", nil))
	}()

	compare(t, jm, `
# HELP dvcwatch_job_duration_seconds How long task handlers ran, by task type and outcome (succeeded, failed, skipped_retry).
# TYPE dvcwatch_job_duration_seconds histogram
`+histogram("detect:run", "failed", 2)+
		histogram("notify:deliver", "succeeded", 0.02)+
		histogram("sync:connector", "failed", 180)+
		histogram("sync:connector", "skipped_retry", 0.5)+`
# HELP dvcwatch_jobs_total Task runs by task type and outcome (succeeded, failed, skipped_retry).
# TYPE dvcwatch_jobs_total counter
dvcwatch_jobs_total{outcome="failed",type="detect:run"} 1
dvcwatch_jobs_total{outcome="failed",type="sync:connector"} 1
dvcwatch_jobs_total{outcome="skipped_retry",type="sync:connector"} 1
dvcwatch_jobs_total{outcome="succeeded",type="notify:deliver"} 1
`)
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, OutcomeSucceeded},
		{errors.New("timeout"), OutcomeFailed},
		{context.Canceled, OutcomeFailed},
		{asynq.SkipRetry, OutcomeSkippedRetry},
		{fmt.Errorf("sync: %w: %w", errors.New("401"), asynq.SkipRetry), OutcomeSkippedRetry},
	} {
		if got := Outcome(c.err); got != c.want {
			t.Errorf("Outcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// unreadableOutbox is a dispatcher that found n rows unreadable.
type unreadableOutbox int

func (n unreadableOutbox) UnreadableOutbox() int { return int(n) }

// TestCollectorOutboxUnreadable: the rows the dispatcher skips as
// unreadable are counted.
func TestCollectorOutboxUnreadable(t *testing.T) {
	t.Parallel()
	db := openStore(t)
	c := collector(db, jobs.NewInspector(openRedis(t)))
	c.opts.Outbox = unreadableOutbox(2)
	compare(t, c, `
# HELP dvcwatch_outbox_unreadable Outbox rows the dispatcher of this replica found unreadable at its last run, and skips.
# TYPE dvcwatch_outbox_unreadable gauge
dvcwatch_outbox_unreadable 2
`, "dvcwatch_outbox_unreadable")
}
