package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
)

// The admin API's tokens in these tests.
const (
	cliViewer   = "viewer-secret-0123456789"
	cliOperator = "operator-secret-0123456789"
	cliAdmin    = "admin-secret-0123456789"
)

// cliAPI is a running admin API as dvcwatch serve wires it: SQLite store,
// asynq on an in-process miniredis, a running scheduler. (admin's own tests
// build the same; test packages cannot share it.)
type cliAPI struct {
	url   string
	db    *store.DB
	insp  jobs.Inspector
	queue *asynq.Client
}

func startCLIAPI(t *testing.T) *cliAPI {
	t.Helper()
	t.Setenv(envServer, "")
	t.Setenv(envToken, "")
	t.Setenv("DVCWATCH_CONFIG", "")
	ctx := context.Background()
	db, err := store.Open(ctx, store.DriverSQLite, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // miniredis's clock moves only when told
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				mr.FastForward(200 * time.Millisecond)
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	a := &cliAPI{db: db, insp: jobs.NewInspector(rdb), queue: asynq.NewClientFromRedisClient(rdb)}

	quiet := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sched := scheduler.New(scheduler.Options{
		Client: a.queue, Ticks: db, Overrides: db, Task: jobs.ScheduledTask, Logger: quiet,
		Schedules: []config.Schedule{
			{Name: "sync", Cron: "15 10 * * *", Job: config.JobSync, Connector: "onestop", Timezone: config.DefaultTimezone},
			{Name: "detect", Cron: "@every 24h", Job: config.JobDetect, Timezone: config.DefaultTimezone},
		},
	})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sched.Run(sctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("scheduler: %v", err)
		}
	})
	h, err := admin.New(admin.Options{
		Tokens: []config.Token{
			{Name: "vera", Role: config.AdminViewer, Token: config.NewSecret(cliViewer)},
			{Name: "otto", Role: config.AdminOperator, Token: config.NewSecret(cliOperator)},
			{Name: "ada", Role: config.AdminAdmin, Token: config.NewSecret(cliAdmin)},
		},
		Store: db, Queue: a.insp, Queues: jobs.Queues(), Schedules: sched, Requeue: jobs.Requeuer(a.queue), Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

// archive puts a detect task with id in the queue's archive.
func (a *cliAPI) archive(t *testing.T, id string) {
	t.Helper()
	task, err := jobs.NewDetectTask(jobs.DetectPayload{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.queue.EnqueueContext(context.Background(), task, asynq.TaskID(id)); err != nil {
		t.Fatal(err)
	}
	if err := a.insp.ArchiveTask(jobs.Queue, id); err != nil {
		t.Fatal(err)
	}
}

// cli runs dvcwatch with --server and --token added.
func (a *cliAPI) cli(t *testing.T, token string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	return run(t, append(args, "--server", a.url, "--token", token)...)
}

// wantOK returns a check that the command succeeded, printing nothing on
// stderr, and gives its stdout: wantOK(t)(run(t, ...)).
func wantOK(t *testing.T) func(stdout, stderr string, status int) string {
	return func(stdout, stderr string, status int) string {
		t.Helper()
		if status != 0 || stderr != "" {
			t.Fatalf("exit status %d, stderr %q, stdout %q", status, stderr, stdout)
		}
		return stdout
	}
}

const vnMinute = `\d{4}-\d\d-\d\d \d\d:\d\d`

func TestSchedulesCLI(t *testing.T) {
	a := startCLIAPI(t)

	out := wantOK(t)(a.cli(t, cliViewer, "schedules", "list"))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^NAME +JOB +CONNECTOR +CRON +ZONE +STATE +NEXT +LAST +CONFIGURED +CHANGED$`).MatchString(lines[0]) {
		t.Fatalf("schedules list:\n%s", out)
	}
	if !regexp.MustCompile(`^sync +sync +onestop +15 10 \* \* \* +Asia/Ho_Chi_Minh +active +\d{4}-\d\d-\d\d 10:15 +(-|` + vnMinute + `) +\(same\) +-$`).MatchString(lines[1]) {
		t.Errorf("sync row = %q", lines[1])
	}

	// The operator's token from the environment, the server too.
	t.Setenv(envToken, cliOperator)
	t.Setenv(envServer, a.url)
	out = wantOK(t)(run(t, "schedules", "run", "sync"))
	m := regexp.MustCompile(`^schedule sync: enqueued task (sync@manual:\S+) \(see dvcwatch jobs list --state pending\)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("run: %q", out)
	}
	if info, err := a.insp.GetTaskInfo(jobs.Queue, m[1]); err != nil || info.State != asynq.TaskStatePending {
		t.Errorf("task run now: %+v, %v", info, err)
	}

	out = wantOK(t)(run(t, "schedules", "pause", "sync"))
	if !regexp.MustCompile(`^schedule sync: paused \(next tick \d{4}-\d\d-\d\d 10:15 skipped until resumed\)\n$`).MatchString(out) {
		t.Errorf("pause: %q", out)
	}
	out = wantOK(t)(run(t, "schedules", "list"))
	if !regexp.MustCompile(`\nsync .* paused .* by otto ` + vnMinute + `\n`).MatchString(out) {
		t.Errorf("list after pause:\n%s", out)
	}
	out = wantOK(t)(run(t, "schedules", "resume", "sync"))
	if !regexp.MustCompile(`^schedule sync: resumed \(next tick \d{4}-\d\d-\d\d 10:15\)\n$`).MatchString(out) {
		t.Errorf("resume: %q", out)
	}

	// A bad cron expression: the server's message, exit 1, nothing on stdout.
	out, errOut, status := run(t, "schedules", "set", "sync", "*/5 * *")
	want := `PUT /api/v1/schedules/sync: 400 Bad Request: schedule sync: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`
	if status != exitFailure || out != "" || errOut != want {
		t.Errorf("set a bad cron: status %d, stdout %q, stderr %q\nwant stderr %q", status, out, errOut, want)
	}
	out = wantOK(t)(run(t, "schedules", "set", "sync", "*/10 * * * *"))
	if !regexp.MustCompile(`^schedule sync: cron "\*/10 \* \* \* \*" in force \(Asia/Ho_Chi_Minh; next tick \d{4}-\d\d-\d\d \d\d:\d0\)\n$`).MatchString(out) {
		t.Errorf("set: %q", out)
	}
	out = wantOK(t)(run(t, "schedules", "list", "--json"))
	var ss []admin.Schedule
	if err := json.Unmarshal([]byte(out), &ss); err != nil || len(ss) != 2 || ss[0].Cron != "CRON_TZ=Asia/Ho_Chi_Minh */10 * * * *" ||
		ss[0].Configured != "CRON_TZ=Asia/Ho_Chi_Minh 15 10 * * *" || ss[0].UpdatedBy != "otto" {
		t.Errorf("list --json: %v\n%s", err, out)
	}

	// The expression unquoted is five arguments: the user's to fix.
	if _, errOut, status := run(t, "schedules", "set", "sync", "*/5", "*", "*", "*", "*"); status != exitUsage ||
		!strings.Contains(errOut, "the expression quoted as one argument") {
		t.Errorf("unquoted cron: status %d, %q", status, errOut)
	}
	if _, errOut, status := run(t, "schedules", "pause", "nope"); status != exitUsage ||
		errOut != `POST /api/v1/schedules/nope/pause: 404 Not Found: schedule "nope": no such schedule (want one of: sync, detect)` {
		t.Errorf("pause an unknown schedule: status %d, %q", status, errOut)
	}
}

func TestAdminCLIRefusals(t *testing.T) {
	a := startCLIAPI(t)

	// A viewer may not change a schedule: who, which role, what it needs.
	_, errOut, status := a.cli(t, cliViewer, "schedules", "pause", "sync")
	if want := `token "vera" with role viewer may not pause schedule sync: 403 (needs operator)`; status != exitFailure || errOut != want {
		t.Errorf("viewer pause: status %d, %q\nwant %q", status, errOut, want)
	}
	_, errOut, status = a.cli(t, cliOperator, "jobs", "retry", "notification:1")
	if want := `token "otto" with role operator may not retry job notification:1: 403 (needs admin)`; status != exitFailure || errOut != want {
		t.Errorf("operator retry: status %d, %q\nwant %q", status, errOut, want)
	}

	// A token the server does not know.
	bad := "not-a-configured-token-0123"
	_, errOut, status = a.cli(t, bad, "schedules", "list")
	if want := "the server refused the token (401): invalid token or expired session; check --token or DVCWATCH_TOKEN"; status != exitFailure || errOut != want {
		t.Errorf("unknown token: status %d, %q\nwant %q", status, errOut, want)
	}

	// No token at all: a usage error naming the flag and the variable.
	for _, args := range [][]string{{"schedules", "list", "--server", a.url}, {"jobs", "list", "--server", a.url}} {
		out, errOut, status := run(t, args...)
		if status != exitUsage || out != "" || !strings.Contains(errOut, "--token") || !strings.Contains(errOut, "DVCWATCH_TOKEN") {
			t.Errorf("%v without a token: status %d, stdout %q, stderr %q", args, status, out, errOut)
		}
	}

	// A server that does not answer: exit 1, the address in the message.
	srv := httptest.NewServer(nil)
	down := srv.URL
	srv.Close()
	_, errOut, status = run(t, "schedules", "list", "--server", down, "--token", cliViewer)
	if status != exitFailure || !strings.Contains(errOut, "GET "+down+"/api/v1/schedules: ") || !strings.Contains(errOut, "refused") {
		t.Errorf("server down: status %d, %q", status, errOut)
	}
	if _, errOut, status = run(t, "schedules", "list", "--server", "127.0.0.1:8080", "--token", cliViewer); status != exitUsage ||
		!strings.HasPrefix(errOut, `--server: admin API URL "127.0.0.1:8080"`) {
		t.Errorf("server without a scheme: status %d, %q", status, errOut)
	}

	// The token never shows, not even in --help.
	out, _, _ := run(t, "jobs", "--help")
	for _, tok := range []string{cliViewer, cliOperator, cliAdmin, bad} {
		if strings.Contains(out+errOut, tok) {
			t.Errorf("a token shows in %q", out+errOut)
		}
	}
}

// TestAdminCLIServerFromConfig reaches the server at admin.listen of the
// configuration file when neither --server nor DVCWATCH_SERVER is given.
func TestAdminCLIServerFromConfig(t *testing.T) {
	a := startCLIAPI(t)
	u, err := url.Parse(a.url)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(u.Host, ":")
	cfg := filepath.Join(t.TempDir(), "dvcwatch.yaml")
	write(t, cfg, minimalConfig+"  listen: 0.0.0.0:"+port+"\n")
	out := wantOK(t)(run(t, "schedules", "list", "--config", cfg, "--token", cliViewer))
	if !strings.Contains(out, "\nsync ") {
		t.Errorf("list through admin.listen:\n%s", out)
	}
	t.Setenv("DVCWATCH_CONFIG", cfg)
	t.Setenv(envToken, cliViewer)
	wantOK(t)(run(t, "jobs", "list"))
}

func TestJobsCLI(t *testing.T) {
	a := startCLIAPI(t)
	const id = "detect@2026-12-01T20:00:00Z"
	a.archive(t, id)

	out := wantOK(t)(a.cli(t, cliViewer, "jobs", "list"))
	if !regexp.MustCompile(`(?m)^ID +QUEUE +TYPE +STATE +RETRIED +LAST FAILED +NEXT +COMPLETED +LAST ERROR\n` +
		regexp.QuoteMeta(id) + ` +dvcwatch +detect:run +archived +0/10 `).MatchString(out) {
		t.Errorf("jobs list:\n%s", out)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "jobs", "list", "--state", "pending"))
	if out != "no pending jobs\n" {
		t.Errorf("jobs list --state pending: %q", out)
	}
	for _, args := range [][]string{
		{"jobs", "list", "--state", "dead"},
		{"jobs", "list", "--failed", "--runs"},
		{"jobs", "list", "--failed", "--state", "pending"},
		{"jobs", "list", "--limit", "0"},
		{"jobs", "list", "--open"},
		{"jobs", "retry"},
		{"jobs", "retry", "a", "--all-archived"},
		{"jobs", "delete"},
		{"jobs", "list", "extra"},
	} {
		if out, errOut, status := a.cli(t, cliAdmin, args...); status != exitUsage || out != "" {
			t.Errorf("%v: status %d, stdout %q, stderr %q; want a usage error", args, status, out, errOut)
		}
	}

	// Retry the archived task; then one the queue no longer holds, from SQL.
	out = wantOK(t)(a.cli(t, cliAdmin, "jobs", "retry", id))
	if out != "job "+id+": retried: now pending\n" {
		t.Errorf("retry: %q", out)
	}
	const gone = "notification:7"
	if err := a.db.RecordFailedTask(context.Background(), dvcwatch.FailedTask{TaskID: gone, Queue: jobs.Queue, Type: jobs.TypeDeliver,
		Payload: `{"notification":7}`, Error: "smtp: 421\ntry again later", Retried: 10, FailedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "jobs", "list", "--failed", "--open"))
	if !regexp.MustCompile(`\n1 +notification:7 +notify:deliver +` + vnMinute + ` +10 +open +unknown +smtp: 421 try again later\n$`).MatchString(out) {
		t.Errorf("jobs list --failed --open:\n%s", out)
	}
	out = wantOK(t)(a.cli(t, cliAdmin, "jobs", "retry", gone, "--json"))
	var res admin.RetryResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res != (admin.RetryResult{TaskID: gone, Retried: 1, Requeued: true}) {
		t.Errorf("retry --json: %q (%v)", out, err)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "jobs", "list", "--failed"))
	if !regexp.MustCompile(`notification:7 .* retried by ada ` + vnMinute).MatchString(out) {
		t.Errorf("jobs list --failed after the retry:\n%s", out)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "jobs", "list", "--state", "pending", "--limit", "1"))
	if strings.Count(out, "\n") != 2 {
		t.Errorf("--limit 1 printed:\n%s", out)
	}

	out = wantOK(t)(a.cli(t, cliAdmin, "jobs", "delete", gone))
	if out != "job notification:7: deleted\n" {
		t.Errorf("delete: %q", out)
	}
	if _, err := a.insp.GetTaskInfo(jobs.Queue, gone); err == nil {
		t.Error("deleted task is still in the queue")
	}
	_, errOut, status := a.cli(t, cliAdmin, "jobs", "delete", gone)
	if want := `DELETE /api/v1/jobs/notification:7: 404 Not Found: task "notification:7": not in the queue, and no open failure of it is recorded`; status != exitFailure || errOut != want {
		t.Errorf("delete again: status %d, %q", status, errOut)
	}
	out = wantOK(t)(a.cli(t, cliAdmin, "jobs", "retry", "--all-archived"))
	if out != "no archived job to retry\n" {
		t.Errorf("retry --all-archived: %q", out)
	}

	if _, err := a.db.RecordJobRun(context.Background(), dvcwatch.JobRun{Job: "sync", Schedule: "sync", TaskID: "sync@x",
		StartedAt: time.Now().Add(-3 * time.Second), FinishedAt: time.Now(), Status: dvcwatch.RunSucceeded,
		Counts: map[string]int{"fetched": 12, "inserted": 2, "stale": 0}}); err != nil {
		t.Fatal(err)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "jobs", "list", "--runs", "--job", "sync"))
	if !regexp.MustCompile(`\n1 +sync +sync +succeeded +` + vnMinute + ` +3s +sync@x +fetched=12 inserted=2\n$`).MatchString(out) {
		t.Errorf("jobs list --runs:\n%s", out)
	}
}
