package admin_test

// The API's tests run the real server over a real SQLite store, asynq on an
// in-process miniredis and a running scheduler: what the worker wires. Every
// helper here is prefixed api, since other test files share the package.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/internal/logbuf"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// The store, the inspector and the scheduler are what the worker passes.
var (
	_ admin.Store     = (*store.DB)(nil)
	_ admin.Queue     = jobs.Inspector{}
	_ admin.Schedules = (*scheduler.Scheduler)(nil)
)

// The tokens of the tests, one per role.
const (
	apiViewerToken   = "viewer-secret-0123456789"
	apiOperatorToken = "operator-secret-0123456789"
	apiAdminToken    = "admin-secret-0123456789"
)

var apiTokens = []config.Token{
	{Name: "vera", Role: config.AdminViewer, Token: config.NewSecret(apiViewerToken)},
	{Name: "otto", Role: config.AdminOperator, Token: config.NewSecret(apiOperatorToken)},
	{Name: "ada", Role: config.AdminAdmin, Token: config.NewSecret(apiAdminToken)},
}

// apiRoles are the roles in order, with their token.
var apiRoles = []struct {
	role  config.AdminRole
	token string
}{{config.AdminViewer, apiViewerToken}, {config.AdminOperator, apiOperatorToken}, {config.AdminAdmin, apiAdminToken}}

func apiRank(r config.AdminRole) int {
	for i, x := range apiRoles {
		if x.role == r {
			return i
		}
	}
	panic("unknown role " + r)
}

// The schedules tick at times no test runs long enough to meet.
var apiSchedules = []config.Schedule{
	{Name: "sync", Cron: "15 10 * * *", Job: config.JobSync, Connector: "onestop", Timezone: config.DefaultTimezone},
	{Name: "detect", Cron: "0 3 * * 1", Job: config.JobDetect, Timezone: config.DefaultTimezone},
}

// apiClock is the server's clock: the wall clock, moved forward by tests.
type apiClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *apiClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *apiClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// apiBundle is a running server and what it runs on.
type apiBundle struct {
	url   string
	h     http.Handler // the server, for the fuzz targets to call without a connection
	db    *store.DB
	mr    *miniredis.Miniredis
	rdb   redis.UniversalClient
	insp  jobs.Inspector
	queue *asynq.Client
	sched *scheduler.Scheduler
	clock *apiClock
	log   *logbuf.Buffer
}

// apiSetup starts a server; edit changes its options before New.
func apiSetup(t testing.TB, edit ...func(*admin.Options)) *apiBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.DriverSQLite, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return apiSetupWith(t, db, edit...)
}

// apiSetupWith is apiSetup over a migrated store of the caller's (one of
// storetest's, on either engine).
func apiSetupWith(t testing.TB, db *store.DB, edit ...func(*admin.Options)) *apiBundle {
	t.Helper()
	b := &apiBundle{clock: &apiClock{}, log: &logbuf.Buffer{}}
	b.db = db

	// miniredis keeps its own clock: move it with the wall clock, or no TTL
	// asynq sets (retention, leases) ever ends.
	b.mr = miniredis.RunT(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				b.mr.FastForward(200 * time.Millisecond)
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	b.rdb = b.redisClient(t)
	b.insp = jobs.NewInspector(b.rdb)
	b.queue = asynq.NewClientFromRedisClient(b.rdb)

	// The scheduler this replica runs re-reads the overrides only when the
	// API asks it to (Refresh): its Reload never comes during a test.
	b.sched = b.startScheduler(t, time.Hour)

	log := slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := admin.Options{
		Tokens: apiTokens, Store: db, Queue: b.insp, Queues: jobs.Queues(), Schedules: b.sched,
		Requeue: jobs.Requeuer(b.queue), Logger: log, Clock: clock.Func(b.clock.now),
		Officials: func(id string) bool { return id == "binh" || id == "an" },
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return err
			}
			return b.rdb.Ping(ctx).Err()
		},
	}
	for _, e := range edit {
		e(&opts)
	}
	h, err := admin.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.h = h
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	t.Cleanup(func() {
		for _, tok := range apiRoles {
			if strings.Contains(b.log.String(), tok.token) {
				t.Errorf("the server's log shows a token:\n%s", b.log.String())
			}
		}
		if t.Failed() {
			t.Logf("server log:\n%s", b.log.String())
		}
	})
	return b
}

func (b *apiBundle) redisClient(t testing.TB) redis.UniversalClient {
	c := redis.NewClient(&redis.Options{Addr: b.mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startScheduler runs a scheduler of apiSchedules on the bundle's store and
// Redis until the test ends: a replica of its own.
func (b *apiBundle) startScheduler(t testing.TB, reload time.Duration) *scheduler.Scheduler {
	t.Helper()
	s := scheduler.New(scheduler.Options{
		Client: asynq.NewClientFromRedisClient(b.redisClient(t)), Ticks: b.db, Overrides: b.db,
		Schedules: apiSchedules, Task: jobs.ScheduledTask, Reload: reload,
		Logger: slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("scheduler: %v", err)
		}
	})
	return s
}

// apiAnswer is a response, read whole.
type apiAnswer struct {
	status int
	header http.Header
	body   []byte
}

// errMessage is the answer's admin.ErrorBody.
func (a apiAnswer) errMessage(t *testing.T) string {
	t.Helper()
	var e admin.ErrorBody
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error answer %d %q: %v", a.status, a.body, err)
	}
	return e.Error
}

// decode reads the answer's JSON into v.
func (a apiAnswer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %q: %v", a.status, a.body, err)
	}
}

// apiBearer authenticates with token.
func apiBearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// do sends one request; each set prepares it (credentials, headers).
func (b *apiBundle) do(t *testing.T, method, path, body string, set ...func(*http.Request)) apiAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, s := range set {
		s(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiAnswer{resp.StatusCode, resp.Header, data}
}

// want fails the test unless the answer has status.
func (a apiAnswer) want(t *testing.T, status int, what string) apiAnswer {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, a.status, status, a.body)
	}
	return a
}

// archived puts a detect task with id in the queue's archive, as asynq does
// with a task that failed every retry.
func (b *apiBundle) archived(t *testing.T, id string) {
	t.Helper()
	b.enqueue(t, id)
	if err := b.insp.ArchiveTask(jobs.Queue, id); err != nil {
		t.Fatalf("archive %s: %v", id, err)
	}
}

func (b *apiBundle) enqueue(t *testing.T, id string) {
	t.Helper()
	task, err := jobs.NewDetectTask(jobs.DetectPayload{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.queue.EnqueueContext(context.Background(), task, asynq.TaskID(id)); err != nil {
		t.Fatalf("enqueue %s: %v", id, err)
	}
}

// state is the queue state of task id, or "gone".
func (b *apiBundle) state(t *testing.T, id string) string {
	t.Helper()
	info, err := b.insp.GetTaskInfo(jobs.Queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return "gone"
	}
	if err != nil {
		t.Fatalf("task %s: %v", id, err)
	}
	return info.State.String()
}

// recordFailure keeps a failure of task id in SQL, as the worker does when
// asynq archives a task.
func (b *apiBundle) recordFailure(t *testing.T, id, typ, payload string) {
	t.Helper()
	err := b.db.RecordFailedTask(context.Background(), dvcwatch.FailedTask{TaskID: id, Queue: jobs.Queue, Type: typ,
		Payload: payload, Error: "smtp: 421 try again later", Retried: jobs.DeliverMaxRetry, FailedAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
}

// failure returns the SQL record of task id's latest failure.
func (b *apiBundle) failure(t *testing.T, id string) dvcwatch.FailedTask {
	t.Helper()
	fs, err := b.db.FailedTasks(context.Background(), false, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.TaskID == id {
			return f
		}
	}
	t.Fatalf("no failure of %s recorded", id)
	return dvcwatch.FailedTask{}
}

// breach records an open overdue breach of a stored dossier and returns its id.
func (b *apiBundle) breach(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	key := dvcwatch.DossierKey{Source: "onestop", Code: "HS-001"}
	d := dvcwatch.Dossier{Key: key, ProcedureName: "Đăng ký khai sinh", Agency: "UBND-XA-01", Status: dvcwatch.StatusInProgress,
		RawStatus: "4", ReceivedAt: at, DueAt: at.AddDate(0, 0, 5), SourceUpdatedAt: at}
	if _, err := b.db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: []dvcwatch.Dossier{d}}); err != nil {
		t.Fatal(err)
	}
	br := dvcwatch.Breach{Kind: dvcwatch.BreachOverdue, Key: key, Official: "binh", Department: "Phòng Tư pháp",
		Severity: dvcwatch.SeverityWarning, StartedAt: d.DueAt, DueAt: d.DueAt, Detail: "quá hạn / overdue"}
	if _, err := detect.RecordPage(ctx, detect.TxOf(b.db.InTx), detect.Page{Now: at.AddDate(0, 0, 6),
		Dossiers: []dvcwatch.Evaluation{{Key: key, Agency: d.Agency, Open: true, Breaches: []dvcwatch.Breach{br}}}}); err != nil {
		t.Fatal(err)
	}
	bs, err := b.db.Breaches(ctx, store.BreachFilter{OpenOnly: true})
	if err != nil || len(bs) != 1 {
		t.Fatalf("breaches = %v, %v", bs, err)
	}
	return bs[0].ID
}

// silence records a silence of the kind portal_mismatch for a day, by otto,
// and returns its id.
func (b *apiBundle) silence(t *testing.T) int64 {
	t.Helper()
	now := b.clock.now()
	s, err := b.db.AddSilence(context.Background(), dvcwatch.Silence{
		Matchers: []dvcwatch.Matcher{dvcwatch.NewMatcher(dvcwatch.LabelKind, "portal_mismatch")},
		StartsAt: now, EndsAt: now.Add(24 * time.Hour), Reason: "Cổng DVCQG bảo trì", CreatedBy: "otto", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// notification stores an email in the outbox and returns its id.
func (b *apiBundle) notification(t *testing.T) int64 {
	t.Helper()
	id, _, err := b.db.AddNotification(context.Background(), dvcwatch.NewNotification{DedupeKey: "digest:binh:1", Kind: "digest",
		Recipient: "binh", Email: "binh@x.example", Subject: "Hồ sơ quá hạn", Text: "1 hồ sơ", HTML: "<p>1 hồ sơ</p>", Items: 1},
		time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// apiEndpoint is one route of the API with what it needs to succeed.
type apiEndpoint struct {
	method string
	// path returns the path to request, with fresh fixtures when the
	// request consumes them, and a check of what was (not) done.
	path func(t *testing.T, b *apiBundle, n int) (string, func(t *testing.T, allowed bool))
	body string
	need config.AdminRole
	ok   int
}

func apiStatic(p string) func(*testing.T, *apiBundle, int) (string, func(*testing.T, bool)) {
	return func(*testing.T, *apiBundle, int) (string, func(*testing.T, bool)) { return p, nil }
}

// apiEndpoints are every route of /api/v1 but the session's.
func apiEndpoints(t *testing.T, b *apiBundle) []apiEndpoint {
	breach := b.breach(t)
	email := b.notification(t)
	silence := b.silence(t)
	// Task IDs hold ':' and '@'; one with '/' must still reach its route.
	jobID := func(n int) string { return fmt.Sprintf("detect@manual:2026-12-01T03:15:00.12345Z/%d", n) }
	return []apiEndpoint{
		{"GET", apiStatic("/api/v1/whoami"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/dashboard"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/health"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/notifications"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/notifications/" + itoa(email)), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/dossiers?code=HS-001"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/dossiers/onestop/HS-001"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/breaches?all=1"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/report?month=2026-11&agency=A"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/report/trend?year=2026&month=11&agency=A"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/report/dossiers?month=2026-11&agency=A&measure=received"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/report.xlsx?month=2026-11&agency=A"), "", config.AdminViewer, 200},
		{"POST", apiStatic("/api/v1/breaches/" + itoa(breach) + "/ack"), `{"official":"binh","reason":"chờ thẩm định"}`, config.AdminOperator, 200},
		{"GET", apiStatic("/api/v1/silences?all=1"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/silences/" + itoa(silence)), "", config.AdminViewer, 200},
		{"POST", apiStatic("/api/v1/silences"), `{"matchers":{"kind":"portal_mismatch"},"duration":"72h","reason":"Cổng DVCQG bảo trì"}`,
			config.AdminOperator, 201},
		{"POST", func(t *testing.T, b *apiBundle, n int) (string, func(*testing.T, bool)) {
			id := b.silence(t)
			return "/api/v1/silences/" + itoa(id) + "/expire", func(t *testing.T, allowed bool) {
				s, err := b.db.GetSilence(context.Background(), id)
				if err != nil || s.Active(b.clock.now()) == allowed {
					t.Errorf("silence %d after the expiry: %+v, %v; want it ended only if allowed (%t)", id, s, err, allowed)
				}
			}
		}, "", config.AdminOperator, 200},
		{"GET", apiStatic("/api/v1/jobs?state=pending"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/jobs/failed?all=1"), "", config.AdminViewer, 200},
		{"GET", apiStatic("/api/v1/jobs/runs?job=sync"), "", config.AdminViewer, 200},
		{"POST", apiStatic("/api/v1/jobs/retry-archived"), "", config.AdminAdmin, 200},
		{"POST", func(t *testing.T, b *apiBundle, n int) (string, func(*testing.T, bool)) {
			id := jobID(n)
			b.archived(t, id)
			return "/api/v1/jobs/" + pathEscape(id) + "/retry", func(t *testing.T, allowed bool) {
				if got, want := b.state(t, id), map[bool]string{true: "pending", false: "archived"}[allowed]; got != want {
					t.Errorf("task %s is %s after the retry, want %s", id, got, want)
				}
			}
		}, "", config.AdminAdmin, 200},
		{"DELETE", func(t *testing.T, b *apiBundle, n int) (string, func(*testing.T, bool)) {
			id := jobID(n + 10)
			b.archived(t, id)
			return "/api/v1/jobs/" + pathEscape(id), func(t *testing.T, allowed bool) {
				if got, want := b.state(t, id), map[bool]string{true: "gone", false: "archived"}[allowed]; got != want {
					t.Errorf("task %s is %s after the delete, want %s", id, got, want)
				}
			}
		}, "", config.AdminAdmin, 204},
		{"GET", apiStatic("/api/v1/schedules"), "", config.AdminViewer, 200},
		{"POST", apiStatic("/api/v1/schedules/sync/run"), "", config.AdminOperator, 202},
		{"POST", apiStatic("/api/v1/schedules/detect/pause"), "", config.AdminOperator, 200},
		{"POST", apiStatic("/api/v1/schedules/detect/resume"), "", config.AdminOperator, 200},
		{"PUT", apiStatic("/api/v1/schedules/detect"), `{"cron":"30 3 * * 1"}`, config.AdminOperator, 200},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pathEscape escapes a path segment as the client does.
func pathEscape(s string) string { return url.PathEscape(s) }

// TestAPIRoles requests every endpoint with each role's token: 2xx where the
// role may, 403 naming the role needed where it may not, and nothing done.
func TestAPIRoles(t *testing.T) {
	b := apiSetup(t)
	for i, e := range apiEndpoints(t, b) {
		for _, r := range apiRoles {
			path, check := e.path(t, b, i*3+apiRank(r.role))
			allowed := apiRank(r.role) >= apiRank(e.need)
			name := e.method + " " + path + " as " + string(r.role)
			a := b.do(t, e.method, path, e.body, apiBearer(r.token))
			switch {
			case allowed && a.status != e.ok:
				t.Errorf("%s: status %d, want %d: %s", name, a.status, e.ok, a.body)
			case !allowed && a.status != http.StatusForbidden:
				t.Errorf("%s: status %d, want 403: %s", name, a.status, a.body)
			case !allowed && !strings.HasSuffix(a.errMessage(t), " needs "+string(e.need)):
				t.Errorf("%s: 403 says %q, want it to name the role needed (%s)", name, a.errMessage(t), e.need)
			}
			if check != nil {
				check(t, allowed)
			}
		}
	}
	// The audit log names who changed what, never with the token.
	for _, want := range []string{`action="retry job" by=ada role=admin`, `action="pause schedule" by=otto role=operator`,
		`action="add silence" by=otto role=operator`, `action="expire silence" by=ada role=admin`} {
		if !strings.Contains(b.log.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// TestAPIUnauthenticated: no credentials, malformed ones or an unknown token
// get 401 on every endpoint, and no credentials get the challenge.
func TestAPIUnauthenticated(t *testing.T) {
	b := apiSetup(t)
	for i, e := range apiEndpoints(t, b) {
		path, _ := e.path(t, b, i)
		a := b.do(t, e.method, path, e.body)
		if a.status != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") != `Bearer realm="dvcwatch"` {
			t.Errorf("%s %s without credentials: %d, WWW-Authenticate %q; want 401 and the Bearer challenge",
				e.method, path, a.status, a.header.Get("WWW-Authenticate"))
		}
	}
	cases := []struct{ header, msg string }{
		{"Basic dmVyYTpzZWNyZXQ=", "malformed Authorization header: want Bearer <token>"},
		{"Bearer", "malformed Authorization header: want Bearer <token>"},
		{"Bearer    ", "malformed Authorization header: want Bearer <token>"},
		{apiViewerToken, "malformed Authorization header: want Bearer <token>"},
		{"Bearer not-a-configured-token-at-all", "invalid token or expired session"},
		{"Bearer " + apiViewerToken + "x", "invalid token or expired session"},
	}
	for _, c := range cases {
		a := b.do(t, "GET", "/api/v1/whoami", "", func(r *http.Request) { r.Header.Set("Authorization", c.header) })
		if a.status != http.StatusUnauthorized || a.errMessage(t) != c.msg {
			t.Errorf("Authorization %q: %d %s, want 401 %q", c.header, a.status, a.body, c.msg)
		}
	}
	// The scheme is case-insensitive.
	b.do(t, "GET", "/api/v1/whoami", "", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+apiViewerToken) }).
		want(t, 200, "lower-case bearer")
	// An unknown path under /api is a 404 in JSON, not the UI's page.
	if a := b.do(t, "GET", "/api/v1/nope", "", apiBearer(apiAdminToken)); a.status != 404 || !strings.Contains(a.errMessage(t), "no such API") {
		t.Errorf("GET /api/v1/nope: %d %s", a.status, a.body)
	}
}

// TestAPISession logs in with a token and uses the cookie: reads work,
// changes need the X-Dvcwatch-Request header, and the session ends.
func TestAPISession(t *testing.T) {
	b := apiSetup(t)
	login := func(t *testing.T, token string) *http.Cookie {
		t.Helper()
		a := b.do(t, "POST", "/api/v1/session", `{"token":"`+token+`"}`).want(t, 200, "login")
		var w admin.Whoami
		a.decode(t, &w)
		if w.Name != "otto" && w.Name != "vera" {
			t.Errorf("login answers %+v", w)
		}
		resp := http.Response{Header: a.header}
		for _, c := range resp.Cookies() {
			if c.Name == "dvcwatch_session" {
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || strings.Contains(c.Value, token) {
					t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, without the token", c)
				}
				return c
			}
		}
		t.Fatalf("login set no session cookie: %v", a.header)
		return nil
	}
	withCookie := func(c *http.Cookie) func(*http.Request) { return func(r *http.Request) { r.AddCookie(c) } }
	csrf := func(r *http.Request) { r.Header.Set("X-Dvcwatch-Request", "1") }

	op := login(t, apiOperatorToken)
	var w admin.Whoami
	b.do(t, "GET", "/api/v1/whoami", "", withCookie(op)).want(t, 200, "whoami with the cookie").decode(t, &w)
	if w != (admin.Whoami{Name: "otto", Role: "operator"}) {
		t.Errorf("whoami with the cookie = %+v", w)
	}
	b.do(t, "GET", "/api/v1/schedules", "", withCookie(op)).want(t, 200, "GET with the cookie")

	a := b.do(t, "POST", "/api/v1/schedules/sync/pause", "", withCookie(op)).want(t, 403, "a change with the cookie but no X-Dvcwatch-Request")
	if msg := a.errMessage(t); msg != "a change made with the session cookie needs the X-Dvcwatch-Request header" {
		t.Errorf("401 says %q", msg)
	}
	if b.schedule(t, "sync").Paused {
		t.Error("the refused pause paused the schedule")
	}
	b.do(t, "POST", "/api/v1/schedules/sync/pause", "", withCookie(op), csrf).want(t, 200, "a change with the cookie and the header")

	// The cookie carries the role of its token.
	viewer := login(t, apiViewerToken)
	b.do(t, "POST", "/api/v1/schedules/sync/resume", "", withCookie(viewer), csrf).want(t, 403, "a viewer's cookie")

	// A cookie altered, or of a token no longer configured, is refused.
	forged := *op
	forged.Value = strings.Replace(forged.Value, ".", ".9", 1)
	b.do(t, "GET", "/api/v1/whoami", "", withCookie(&forged)).want(t, 401, "a forged cookie")
	other := apiSetup(t, func(o *admin.Options) {
		o.Tokens = []config.Token{{Name: "otto", Role: config.AdminOperator, Token: config.NewSecret("a-new-secret-for-otto-0123")}}
	})
	other.do(t, "GET", "/api/v1/whoami", "", withCookie(op)).want(t, 401, "a session of a changed token")

	// Sessions last 8 hours.
	b.clock.advance(8*time.Hour - time.Minute)
	b.do(t, "GET", "/api/v1/whoami", "", withCookie(op)).want(t, 200, "a session 7h59m old")
	b.clock.advance(time.Minute)
	a = b.do(t, "GET", "/api/v1/whoami", "", withCookie(op)).want(t, 401, "an expired session")
	if a.header.Get("WWW-Authenticate") == "" {
		t.Error("an expired session gets no WWW-Authenticate")
	}

	// Logging in with an unknown token, or a body that is not the API's, fails.
	b.do(t, "POST", "/api/v1/session", `{"token":"not-a-configured-token-at-all"}`).want(t, 401, "login with an unknown token")
	b.do(t, "POST", "/api/v1/session", `{"token":"`+apiViewerToken+`","role":"admin"}`).want(t, 400, "login with an unknown field")
	// A login must be one JSON object declared application/json: a form of
	// another site (text/plain, urlencoded) cannot log a browser in.
	good := `{"token":"` + apiViewerToken + `"}`
	ctype := func(v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("Content-Type", v) } }
	for _, c := range []struct {
		body, ctype string
		status      int
		msg         string
	}{
		{good, "text/plain", 415, `Content-Type "text/plain", want application/json`},
		{good, "application/x-www-form-urlencoded", 415, "want application/json"},
		{good, "", 415, `Content-Type "", want application/json`},
		{good + `=`, "text/plain", 415, "want application/json"},
		{good + ` {"token":"x"}`, "application/json", 400, "want one JSON object and nothing after it"},
		{good + `x`, "application/json", 400, "want one JSON object and nothing after it"},
		{`"` + apiViewerToken + `"`, "application/json", 400, "want a JSON object"},
		{"", "application/json", 400, "request body"},
	} {
		a := b.do(t, "POST", "/api/v1/session", c.body, ctype(c.ctype))
		if a.status != c.status || !strings.Contains(a.errMessage(t), c.msg) || a.header.Get("Set-Cookie") != "" {
			t.Errorf("login with %q as %q: %d %s (cookie %q), want %d saying %q and no cookie",
				c.body, c.ctype, a.status, a.body, a.header.Get("Set-Cookie"), c.status, c.msg)
		}
	}
	b.do(t, "POST", "/api/v1/session", good+"\n", ctype("application/json; charset=utf-8")).want(t, 200, "login with a charset and a final newline")

	a = b.do(t, "DELETE", "/api/v1/session", "").want(t, 204, "logout")
	if c := a.header.Get("Set-Cookie"); !strings.Contains(c, "dvcwatch_session=;") || !strings.Contains(c, "Max-Age=0") {
		t.Errorf("logout sets %q, want the cookie cleared", c)
	}

	// A logout ends the session on the server: a copy of the cookie is
	// refused, on this replica and on another of the same database; another
	// session of the same token goes on.
	kept, ended := login(t, apiOperatorToken), login(t, apiOperatorToken)
	if kept.Value == ended.Value {
		t.Fatal("two logins got the same cookie")
	}
	replica := apiSetupWith(t, b.db)
	replica.do(t, "GET", "/api/v1/whoami", "", withCookie(ended)).want(t, 200, "the session on another replica")
	b.do(t, "DELETE", "/api/v1/session", "", withCookie(ended)).want(t, 204, "logout with the cookie")
	b.do(t, "GET", "/api/v1/whoami", "", withCookie(ended)).want(t, 401, "a copy of a logged-out cookie")
	replica.do(t, "GET", "/api/v1/whoami", "", withCookie(ended)).want(t, 401, "a logged-out cookie on another replica")
	b.do(t, "GET", "/api/v1/whoami", "", withCookie(kept)).want(t, 200, "another session of the token")
	if !strings.Contains(b.log.String(), `action=logout by=otto`) {
		t.Error("the logout is not in the log")
	}
	// A session whose revocation cannot be read is not trusted.
	_ = b.db.Close()
	b.do(t, "GET", "/api/v1/whoami", "", withCookie(kept)).want(t, 503, "a session with the database closed")
}

// schedule returns GET /api/v1/schedules' entry for name.
func (b *apiBundle) schedule(t *testing.T, name string) admin.Schedule {
	t.Helper()
	var ss []admin.Schedule
	b.do(t, "GET", "/api/v1/schedules", "", apiBearer(apiViewerToken)).want(t, 200, "list schedules").decode(t, &ss)
	for _, s := range ss {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no schedule %s in %+v", name, ss)
	return admin.Schedule{}
}

func TestAPIScheduleBadCron(t *testing.T) {
	b := apiSetup(t)
	a := b.do(t, "PUT", "/api/v1/schedules/sync", `{"cron":"*/5 * *"}`, apiBearer(apiOperatorToken)).want(t, 400, "bad cron")
	if got, want := a.errMessage(t), `schedule sync: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`; got != want {
		t.Errorf("400 says %q\nwant      %q", got, want)
	}
	for _, c := range []struct {
		path, body string
		status     int
		msg        string
	}{
		{"/api/v1/schedules/sync", `{"cron":""}`, 400, "schedule sync: invalid cron expression: empty"},
		{"/api/v1/schedules/sync", `{"cron":"0 0 30 2 *"}`, 400, `schedule sync: cron expression "0 0 30 2 *" never fires`},
		{"/api/v1/schedules/sync", `{"cron":"CRON_TZ=Mars/Olympus 0 3 * * *"}`, 400, `schedule sync: invalid cron expression "CRON_TZ=Mars/Olympus 0 3 * * *": provided bad location Mars/Olympus: unknown time zone Mars/Olympus`},
		{"/api/v1/schedules/sync", `{"crn":"0 3 * * *"}`, 400, `request body: json: unknown field "crn"`},
		{"/api/v1/schedules/nope", `{"cron":"0 3 * * *"}`, 404, `schedule "nope": no such schedule (want one of: sync, detect)`},
		{"/api/v1/schedules/synk", `{"cron":"0 3 * * *"}`, 404, `schedule "synk": no such schedule (did you mean "sync"? want one of: sync, detect)`},
	} {
		a := b.do(t, "PUT", c.path, c.body, apiBearer(apiOperatorToken))
		if a.status != c.status || a.errMessage(t) != c.msg {
			t.Errorf("PUT %s %s: %d %q, want %d %q", c.path, c.body, a.status, a.errMessage(t), c.status, c.msg)
		}
	}
	if s := b.schedule(t, "sync"); s.Cron != "CRON_TZ=Asia/Ho_Chi_Minh 15 10 * * *" || s.UpdatedBy != "" {
		t.Errorf("after refused changes the schedule is %+v, want as configured", s)
	}

	// scheduler.min_interval: what fires more often is refused, naming the
	// field and the minimum; what keeps to it is taken.
	m := apiSetup(t, func(o *admin.Options) { o.MinInterval = 10 * time.Minute })
	for body, msg := range map[string]string{
		`{"cron":"@every 1s"}`:   `schedule sync: cron expression "@every 1s" fires every 1s, more often than scheduler.min_interval (10m) allows`,
		`{"cron":"*/5 * * * *"}`: `schedule sync: cron expression "*/5 * * * *" fires every 5m, more often than scheduler.min_interval (10m) allows`,
		`{"cron":"0,5 3 * * *"}`: `schedule sync: cron expression "0,5 3 * * *" fires every 5m, more often than scheduler.min_interval (10m) allows`,
	} {
		if a := m.do(t, "PUT", "/api/v1/schedules/sync", body, apiBearer(apiOperatorToken)); a.status != 400 || a.errMessage(t) != msg {
			t.Errorf("PUT %s below the minimum: %d %q, want 400 %q", body, a.status, a.body, msg)
		}
	}
	m.do(t, "PUT", "/api/v1/schedules/sync", `{"cron":"@every 10m"}`, apiBearer(apiOperatorToken)).want(t, 200, "@every 10m with a minimum of 10m")
}

// TestAPIScheduleChange changes a schedule's cron expression and pauses it:
// this replica's scheduler applies it at once, another one on the same store
// within its Reload.
func TestAPIScheduleChange(t *testing.T) {
	b := apiSetup(t)
	// The other replica starts once this one has recorded its first ticks,
	// so that it starts as a second replica would (and shows them).
	apiEventually(t, 5*time.Second, "the first replica records its ticks", func() bool {
		_, ok, err := b.db.LastTick(context.Background(), "sync")
		return err == nil && ok
	})
	const reload = 300 * time.Millisecond
	other := b.startScheduler(t, reload)
	apiEventually(t, 5*time.Second, "the second replica starts", func() bool { return !apiEntry(t, other, "sync").Prev.IsZero() })

	const want = "CRON_TZ=Asia/Ho_Chi_Minh */10 * * * *"
	var s admin.Schedule
	b.do(t, "PUT", "/api/v1/schedules/sync", `{"cron":" */10 * * * * "}`, apiBearer(apiOperatorToken)).want(t, 200, "set cron").decode(t, &s)
	changed := time.Now()
	if s.Cron != want || s.Configured != "CRON_TZ=Asia/Ho_Chi_Minh 15 10 * * *" || s.UpdatedBy != "otto" || s.UpdatedAt == nil {
		t.Errorf("PUT answers %+v, want %s in force, the configured one kept, updated by otto", s, want)
	}
	if s.Next == nil || s.Next.Minute()%10 != 0 || s.Next.Sub(time.Now()) > 10*time.Minute {
		t.Errorf("next tick %v, want the next multiple of 10 minutes", s.Next)
	}
	if got := b.schedule(t, "sync"); got.Cron != want {
		t.Errorf("GET /schedules shows %q, want %q", got.Cron, want)
	}
	apiEventually(t, reload+2*time.Second, "the second replica applies the new cron", func() bool { return apiEntry(t, other, "sync").Spec == want })
	t.Logf("the second replica applied the change %v after it was stored (reload %v)", time.Since(changed).Round(time.Millisecond), reload)
	if e := apiEntry(t, other, "sync"); e.UpdatedBy != "otto" || e.Next.Minute()%10 != 0 {
		t.Errorf("second replica's entry %+v", e)
	}

	// Pause, then resume: both replicas follow.
	b.do(t, "POST", "/api/v1/schedules/sync/pause", "", apiBearer(apiOperatorToken)).want(t, 200, "pause").decode(t, &s)
	if !s.Paused || s.Next == nil || s.Cron != want {
		t.Errorf("pause answers %+v, want paused, its next tick shown and the cron kept", s)
	}
	if !b.schedule(t, "sync").Paused {
		t.Error("GET /schedules: not paused")
	}
	apiEventually(t, reload+2*time.Second, "the second replica pauses", func() bool { return apiEntry(t, other, "sync").Paused })
	o, err := b.db.ScheduleOverrides(context.Background())
	if err != nil || o["sync"].Paused == nil || !*o["sync"].Paused || o["sync"].Cron != "*/10 * * * *" || o["sync"].UpdatedBy != "otto" {
		t.Errorf("stored override %+v, %v", o["sync"], err)
	}
	b.do(t, "POST", "/api/v1/schedules/sync/resume", "", apiBearer(apiOperatorToken)).want(t, 200, "resume").decode(t, &s)
	if s.Paused {
		t.Errorf("resume answers %+v", s)
	}
	apiEventually(t, reload+2*time.Second, "the second replica resumes", func() bool { return !apiEntry(t, other, "sync").Paused })
	// The other schedule was never touched.
	if d := b.schedule(t, "detect"); d.Paused || d.Cron != "CRON_TZ=Asia/Ho_Chi_Minh 0 3 * * 1" || d.UpdatedBy != "" {
		t.Errorf("detect = %+v, want as configured", d)
	}
	b.do(t, "POST", "/api/v1/schedules/nope/pause", "", apiBearer(apiOperatorToken)).want(t, 404, "pause an unknown schedule")
}

func apiEntry(t *testing.T, s *scheduler.Scheduler, name string) scheduler.Entry {
	t.Helper()
	for _, e := range s.Entries() {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entry %s", name)
	return scheduler.Entry{}
}

// apiEventually polls cond until it holds or within passes.
func apiEventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAPIRunNow enqueues a schedule's task now; the queue holds it pending.
func TestAPIRunNow(t *testing.T) {
	b := apiSetup(t)
	var r admin.RunResult
	b.do(t, "POST", "/api/v1/schedules/sync/run", "", apiBearer(apiOperatorToken)).want(t, 202, "run now").decode(t, &r)
	if !strings.HasPrefix(r.TaskID, "sync@manual:") {
		t.Fatalf("task id %q", r.TaskID)
	}
	info, err := b.insp.GetTaskInfo(jobs.Queue, r.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	var p jobs.SyncPayload
	if err := json.Unmarshal(info.Payload, &p); err != nil || info.State != asynq.TaskStatePending ||
		info.Type != jobs.TypeSync || p.Connector != "onestop" || p.Schedule != "sync" || !p.Manual {
		t.Errorf("task %s: %s %s %s (%v)", r.TaskID, info.State, info.Type, info.Payload, err)
	}
	var ts []admin.Task
	b.do(t, "GET", "/api/v1/jobs?state=pending", "", apiBearer(apiViewerToken)).want(t, 200, "list pending").decode(t, &ts)
	if len(ts) != 1 || ts[0].ID != r.TaskID || ts[0].State != "pending" || ts[0].Type != jobs.TypeSync {
		t.Errorf("pending jobs = %+v, want the task run now", ts)
	}
	// A pending task cannot be retried; it can be deleted.
	a := b.do(t, "POST", "/api/v1/jobs/"+pathEscape(r.TaskID)+"/retry", "", apiBearer(apiAdminToken)).want(t, 409, "retry a pending task")
	if msg := a.errMessage(t); msg != `task "`+r.TaskID+`" is pending: only scheduled, retry and archived tasks can be run now` {
		t.Errorf("409 says %q", msg)
	}
	b.do(t, "DELETE", "/api/v1/jobs/"+pathEscape(r.TaskID), "", apiBearer(apiAdminToken)).want(t, 204, "delete the pending task")
	if s := b.state(t, r.TaskID); s != "gone" {
		t.Errorf("deleted task is %s", s)
	}
	b.do(t, "POST", "/api/v1/schedules/nope/run", "", apiBearer(apiOperatorToken)).want(t, 404, "run an unknown schedule")
}

// TestAPIRetry retries an archived task, one gone from Redis but recorded in
// SQL, and all archived ones; the records are marked retried by the token.
func TestAPIRetry(t *testing.T) {
	b := apiSetup(t)

	// Archived, and recorded in SQL as the worker does.
	const archivedID = "notification:3"
	b.archived(t, archivedID)
	b.recordFailure(t, archivedID, jobs.TypeDetect, `{}`)
	var ts []admin.Task
	b.do(t, "GET", "/api/v1/jobs", "", apiBearer(apiViewerToken)).want(t, 200, "list archived").decode(t, &ts)
	if len(ts) != 1 || ts[0].ID != archivedID || ts[0].State != "archived" {
		t.Errorf("GET /jobs (archived by default) = %+v", ts)
	}
	var res admin.RetryResult
	b.do(t, "POST", "/api/v1/jobs/"+archivedID+"/retry", "", apiBearer(apiAdminToken)).want(t, 200, "retry archived").decode(t, &res)
	if res != (admin.RetryResult{TaskID: archivedID, Retried: 1}) {
		t.Errorf("retry answers %+v", res)
	}
	if s := b.state(t, archivedID); s != "pending" {
		t.Errorf("retried task is %s, want pending", s)
	}
	if f := b.failure(t, archivedID); f.Resolution != dvcwatch.FailedRetried || f.ResolvedBy != "ada" {
		t.Errorf("failure record %+v, want retried by ada", f)
	}

	// Gone from Redis (past its archive retention), recorded in SQL.
	const goneID = "notification:7"
	b.recordFailure(t, goneID, jobs.TypeDeliver, `{"notification":7}`)
	var fs []admin.FailedTask
	b.do(t, "GET", "/api/v1/jobs/failed", "", apiBearer(apiViewerToken)).want(t, 200, "list open failures").decode(t, &fs)
	if len(fs) != 1 || fs[0].TaskID != goneID || fs[0].Resolution != "" {
		t.Errorf("open failures = %+v, want %s only", fs, goneID)
	}
	b.do(t, "POST", "/api/v1/jobs/"+goneID+"/retry", "", apiBearer(apiAdminToken)).want(t, 200, "retry from SQL").decode(t, &res)
	if res != (admin.RetryResult{TaskID: goneID, Retried: 1, Requeued: true}) {
		t.Errorf("retry answers %+v, want requeued", res)
	}
	info, err := b.insp.GetTaskInfo(jobs.DeliveryQueue, goneID) // failed in the jobs' queue, before the split
	if err != nil || info.State != asynq.TaskStatePending || info.Type != jobs.TypeDeliver || info.MaxRetry != jobs.DeliverMaxRetry {
		t.Fatalf("requeued task: %+v, %v", info, err)
	}
	if f := b.failure(t, goneID); f.Resolution != dvcwatch.FailedRetried || f.ResolvedBy != "ada" || f.ResolvedAt.IsZero() {
		t.Errorf("failure record %+v, want retried by ada", f)
	}
	b.do(t, "GET", "/api/v1/jobs/failed", "", apiBearer(apiViewerToken)).want(t, 200, "list open failures").decode(t, &fs)
	if len(fs) != 0 {
		t.Errorf("open failures after the retries = %+v", fs)
	}
	b.do(t, "GET", "/api/v1/jobs/failed?all=1", "", apiBearer(apiViewerToken)).want(t, 200, "list all failures").decode(t, &fs)
	if len(fs) != 2 || fs[0].Resolution != "retried" || fs[0].ResolvedBy != "ada" {
		t.Errorf("all failures = %+v", fs)
	}

	// Neither in the queue nor recorded.
	a := b.do(t, "POST", "/api/v1/jobs/notification:99/retry", "", apiBearer(apiAdminToken)).want(t, 404, "retry an unknown task")
	if msg := a.errMessage(t); msg != `task "notification:99": not in the queue, and no open failure of it is recorded` {
		t.Errorf("404 says %q", msg)
	}

}

// TestAPIRetryAll retries the archive: the records of the tasks it held are
// marked retried, one of a task gone from the queue stays open (nothing
// retried it), and a queue never used yet is an empty archive.
func TestAPIRetryAll(t *testing.T) {
	b := apiSetup(t)
	const gone = "notification:5"
	b.recordFailure(t, gone, jobs.TypeDeliver, `{"notification":5}`)
	var res admin.RetryResult
	b.do(t, "POST", "/api/v1/jobs/retry-archived", "", apiBearer(apiAdminToken)).want(t, 200, "retry all, queue never used").decode(t, &res)
	if res.Retried != 0 || b.failure(t, gone).Resolution != "" {
		t.Errorf("retry all of no queue answers %+v, record %+v; want 0 and the record open", res, b.failure(t, gone))
	}
	var d admin.Dashboard
	b.do(t, "GET", "/api/v1/dashboard", "", apiBearer(apiViewerToken)).want(t, 200, "dashboard, queue never used").decode(t, &d)
	if d.Queue != (admin.QueueSizes{}) || d.FailedOpen != 1 {
		t.Errorf("dashboard of no queue = %+v", d)
	}

	b.archived(t, "a@1")
	b.recordFailure(t, "a@1", jobs.TypeDetect, `{}`)
	b.archived(t, "b@2")
	b.do(t, "POST", "/api/v1/jobs/retry-archived", "", apiBearer(apiAdminToken)).want(t, 200, "retry all").decode(t, &res)
	if res.Retried != 2 || b.state(t, "a@1") != "pending" || b.state(t, "b@2") != "pending" {
		t.Errorf("retry all answers %+v; tasks %s, %s", res, b.state(t, "a@1"), b.state(t, "b@2"))
	}
	if f := b.failure(t, "a@1"); f.Resolution != dvcwatch.FailedRetried || f.ResolvedBy != "ada" {
		t.Errorf("record of a retried task: %+v, want retried by ada", f)
	}
	if f := b.failure(t, gone); f.Resolution != "" {
		t.Errorf("record of a task the archive did not hold: %+v, want it open", f)
	}
}

// TestAPIDelete deletes an archived task, closes the record of one gone
// from Redis, and refuses an unknown one.
func TestAPIDelete(t *testing.T) {
	b := apiSetup(t)
	const id = "detect@2026-12-01T20:00:00Z"
	b.archived(t, id)
	b.recordFailure(t, id, jobs.TypeDetect, `{}`)
	b.do(t, "DELETE", "/api/v1/jobs/"+id, "", apiBearer(apiAdminToken)).want(t, 204, "delete archived")
	if s := b.state(t, id); s != "gone" {
		t.Errorf("deleted task is %s", s)
	}
	if f := b.failure(t, id); f.Resolution != dvcwatch.FailedDeleted || f.ResolvedBy != "ada" {
		t.Errorf("failure record %+v, want deleted by ada", f)
	}

	const gone = "notification:8"
	b.recordFailure(t, gone, jobs.TypeDeliver, `{"notification":8}`)
	b.do(t, "DELETE", "/api/v1/jobs/"+gone, "", apiBearer(apiAdminToken)).want(t, 204, "delete a recorded task gone from Redis")
	if f := b.failure(t, gone); f.Resolution != dvcwatch.FailedDeleted {
		t.Errorf("failure record %+v, want deleted", f)
	}
	b.do(t, "DELETE", "/api/v1/jobs/"+gone, "", apiBearer(apiAdminToken)).want(t, 404, "delete it again")
}

// TestAPIReads covers the read endpoints' answers and their bad input.
func TestAPIReads(t *testing.T) {
	b := apiSetup(t)
	id := b.breach(t)
	email := b.notification(t)
	b.archived(t, "x@1")

	var d admin.Dashboard
	b.do(t, "GET", "/api/v1/dashboard", "", apiBearer(apiViewerToken)).want(t, 200, "dashboard").decode(t, &d)
	if d.Queue.Archived != 1 || d.OpenBreaches["overdue"] != 1 || len(d.AtRisk) != 1 || len(d.Recent) != 1 {
		t.Errorf("dashboard = %+v", d)
	}
	var n admin.Notification
	b.do(t, "GET", "/api/v1/notifications/"+itoa(email), "", apiBearer(apiViewerToken)).want(t, 200, "notification").decode(t, &n)
	if n.State != "pending" || n.HTML != "<p>1 hồ sơ</p>" || n.Cause != "" {
		t.Errorf("notification = %+v", n)
	}
	// A message the server never answered the end of: possibly delivered.
	uncertain := "send email <x> via smtp.x.example:587: possibly delivered: the server did not answer the end of the message: end of message: read tcp: i/o timeout"
	if err := b.db.MarkAttemptFailed(context.Background(), email, time.Now(), uncertain, true); err != nil {
		t.Fatal(err)
	}
	b.do(t, "GET", "/api/v1/notifications/"+itoa(email), "", apiBearer(apiViewerToken)).want(t, 200, "notification").decode(t, &n)
	if n.State != "failed" || n.Cause != dvcwatch.CauseMailUncertain {
		t.Errorf("possibly delivered: state %s, cause %q, want failed, %s", n.State, n.Cause, dvcwatch.CauseMailUncertain)
	}
	var br admin.Breach
	b.do(t, "POST", "/api/v1/breaches/"+itoa(id)+"/ack", `{"official":"binh","reason":"chờ thẩm định"}`, apiBearer(apiOperatorToken)).
		want(t, 200, "ack").decode(t, &br)
	if br.ID != id || br.Kind != "overdue" || br.Label != "Quá hạn" {
		t.Errorf("ack answers %+v", br)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/v1/jobs?state=dead", "", 400},
		{"GET", "/api/v1/jobs?limit=0", "", 400},
		{"GET", "/api/v1/jobs?limit=1001", "", 400},
		{"GET", "/api/v1/breaches?kind=late", "", 400},
		{"GET", "/api/v1/notifications/x", "", 400},
		{"GET", "/api/v1/notifications/999", "", 404},
		{"POST", "/api/v1/breaches/" + itoa(id) + "/ack", `{"official":"binh"}`, 400},
		{"POST", "/api/v1/breaches/999/ack", `{"official":"binh","reason":"r"}`, 404},
	} {
		if a := b.do(t, c.method, c.path, c.body, apiBearer(apiOperatorToken)); a.status != c.status || a.errMessage(t) == "" {
			t.Errorf("%s %s: %d %s, want %d with a message", c.method, c.path, a.status, a.body, c.status)
		}
	}
	// An acknowledgement is by a configured official, with bounded fields:
	// 400 naming the field, nothing stored.
	long := strings.Repeat("x", 60<<10)
	for _, c := range []struct{ body, msg string }{
		{`{"official":"nobody","reason":"r"}`, `official "nobody": not a configured official`},
		{`{"official":"` + long + `","reason":"r"}`, "official: 61440 characters, at most 100"},
		{`{"official":"an","reason":"` + strings.Repeat("ý", 501) + `"}`, "reason: 501 characters, at most 500"},
	} {
		a := b.do(t, "POST", "/api/v1/breaches/"+itoa(id)+"/ack", c.body, apiBearer(apiOperatorToken)).want(t, 400, "ack "+c.msg)
		if !strings.HasPrefix(a.errMessage(t), c.msg) || len(a.body) > 1000 {
			t.Errorf("ack refused with %.200q, want %q", a.errMessage(t), c.msg)
		}
	}
	refused := apiSetup(t, func(o *admin.Options) { o.Officials = nil })
	rid := refused.breach(t)
	refused.do(t, "POST", "/api/v1/breaches/"+itoa(rid)+"/ack", `{"official":"binh","reason":"r"}`, apiBearer(apiOperatorToken)).
		want(t, 400, "an ack with no officials configured")
}

func TestAPIHealth(t *testing.T) {
	b := apiSetup(t)
	if a := b.do(t, "GET", "/healthz", ""); a.status != 200 || string(a.body) != "ok\n" {
		t.Errorf("/healthz: %d %q", a.status, a.body)
	}
	if a := b.do(t, "GET", "/readyz", ""); a.status != 200 || string(a.body) != "ready\n" {
		t.Errorf("/readyz: %d %q", a.status, a.body)
	}
	// An anonymous caller learns which dependency is down, never the
	// error's details (the database's user, name and address); the log has
	// them, once while they stay the same.
	dbErr := errors.New(`failed to connect to user=dvcwatch database=dvcwatch_prod host=10.1.2.3: dial tcp 10.1.2.3:5432: connection refused`)
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("redis: connection refused"), "not ready\n"},
		{&admin.Unreachable{Dependency: "database", Err: dbErr}, "not ready: database unreachable\n"},
		{fmt.Errorf("ping: %w", errors.Join(&admin.Unreachable{Dependency: "database", Err: dbErr},
			&admin.Unreachable{Dependency: "redis", Err: errors.New("dial tcp 10.1.2.4:6379: i/o timeout")})),
			"not ready: database unreachable; redis unreachable\n"},
	} {
		down := apiSetup(t, func(o *admin.Options) { o.Ready = func(context.Context) error { return c.err } })
		for range 3 {
			if a := down.do(t, "GET", "/readyz", ""); a.status != 503 || string(a.body) != c.want {
				t.Errorf("/readyz when %v: %d %q, want 503 %q", c.err, a.status, a.body, c.want)
			}
		}
		// An administrator's token (or session) gets the details; a wrong
		// one is anonymous.
		if a := down.do(t, "GET", "/readyz", "", apiBearer(apiViewerToken)); a.status != 503 || string(a.body) != "not ready: "+c.err.Error()+"\n" {
			t.Errorf("/readyz with a token when %v: %d %q, want 503 with the error", c.err, a.status, a.body)
		}
		if a := down.do(t, "GET", "/readyz", "", apiBearer("not-a-configured-token-at-all")); a.status != 503 || string(a.body) != c.want {
			t.Errorf("/readyz with a wrong token when %v: %d %q, want 503 %q", c.err, a.status, a.body, c.want)
		}
		if got := strings.Count(down.log.String(), "not ready"); got != 1 || !strings.Contains(down.log.String(), "connection refused") {
			t.Errorf("the log has the readiness error %d times, want once with its details:\n%s", got, down.log.String())
		}
	}
}

func TestAPINewRefusesBadTokens(t *testing.T) {
	for _, c := range []struct {
		tokens []config.Token
		want   string
	}{
		{nil, "admin: no tokens configured; the API would refuse every request"},
		{[]config.Token{{Name: "x", Role: "root", Token: config.NewSecret(apiAdminToken)}}, `admin token "x": unknown role "root"`},
		{[]config.Token{{Name: "x", Role: config.AdminAdmin, Token: config.NewSecret("short")}}, `admin token "x": shorter than 16 characters`},
		{[]config.Token{apiTokens[0], {Name: "y", Role: config.AdminAdmin, Token: config.NewSecret(apiViewerToken)}}, `admin token "y": the same secret as another token`},
		{[]config.Token{apiTokens[0], {Name: apiTokens[0].Name, Role: config.AdminAdmin, Token: config.NewSecret("another-secret-0123")}},
			`admin token "` + apiTokens[0].Name + `": the name of another token`},
	} {
		if _, err := admin.New(admin.Options{Tokens: c.tokens}); err == nil || err.Error() != c.want {
			t.Errorf("New(%v): %v, want %q", c.tokens, err, c.want)
		}
	}
}

// TestAPIThrottle: failed logins and bearer tokens from one address get it
// 429 with Retry-After once it runs out of tries, even with the right
// token, until a try is earned back; successes cost nothing, a session
// already open goes on, and the burst is logged once.
func TestAPIThrottle(t *testing.T) {
	b := apiSetup(t, func(o *admin.Options) { o.LoginFailures, o.LoginWindow = 3, 3*time.Minute })
	good := `{"token":"` + apiOperatorToken + `"}`
	bad := `{"token":"not-a-configured-token-at-all"}`
	var session *http.Cookie
	for i := range 10 {
		a := b.do(t, "POST", "/api/v1/session", good).want(t, 200, fmt.Sprintf("good login %d", i))
		session = (&http.Response{Header: a.header}).Cookies()[0]
	}
	for i := range 3 {
		b.do(t, "POST", "/api/v1/session", bad).want(t, 401, fmt.Sprintf("failed login %d", i))
	}
	throttled := func(what string, a apiAnswer) {
		t.Helper()
		a.want(t, 429, what)
		if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
			t.Errorf("%s: Retry-After %q, want 1–60 s", what, a.header.Get("Retry-After"))
		}
		if !strings.Contains(a.errMessage(t), "too many failed logins") {
			t.Errorf("%s says %q", what, a.errMessage(t))
		}
	}
	throttled("the right token at a throttled login", b.do(t, "POST", "/api/v1/session", good))
	throttled("a bearer token from a throttled address", b.do(t, "GET", "/api/v1/whoami", "", apiBearer(apiViewerToken)))
	b.do(t, "GET", "/api/v1/whoami", "", func(r *http.Request) { r.AddCookie(session) }).want(t, 200, "a session opened before")

	b.clock.advance(61 * time.Second)
	b.do(t, "POST", "/api/v1/session", good).want(t, 200, "a login a minute later")
	b.do(t, "GET", "/api/v1/whoami", "", apiBearer("not-a-configured-token-at-all")).want(t, 401, "the try earned back")
	throttled("a login after the earned try failed", b.do(t, "POST", "/api/v1/session", good))
	if n := strings.Count(b.log.String(), "the client is throttled"); n != 2 {
		t.Errorf("the throttling was logged %d times, want once per burst (2):\n%s", n, b.log.String())
	}
	if n := strings.Count(b.log.String(), "level=WARN"); n != 2 {
		t.Errorf("%d warnings for 2 bursts of failed logins, want one a burst, none a try:\n%s", n, b.log.String())
	}

	// Wrong bearer tokens alone get the address throttled too; a malformed
	// header or no credentials do not count.
	c := apiSetup(t, func(o *admin.Options) { o.LoginFailures, o.LoginWindow = 2, time.Minute })
	for range 5 {
		c.do(t, "GET", "/api/v1/whoami", "").want(t, 401, "no credentials")
		c.do(t, "GET", "/api/v1/whoami", "", func(r *http.Request) { r.Header.Set("Authorization", "Basic eA==") }).want(t, 401, "malformed")
	}
	for range 2 {
		c.do(t, "GET", "/api/v1/whoami", "", apiBearer("not-a-configured-token-at-all")).want(t, 401, "a wrong bearer token")
	}
	throttled("a bearer token after two wrong ones", c.do(t, "GET", "/api/v1/whoami", "", apiBearer(apiAdminToken)))
}

// TestAPILogoutOnEveryReplica: two replicas on one database, on each
// engine: a session logged out on one is refused on the other, as is a
// copy of its cookie; another session of the token goes on.
func TestAPILogoutOnEveryReplica(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		one, two := apiSetupWith(t, db), apiSetupWith(t, db)
		login := func() *http.Cookie {
			a := one.do(t, "POST", "/api/v1/session", `{"token":"`+apiViewerToken+`"}`).want(t, 200, "login")
			return (&http.Response{Header: a.header}).Cookies()[0]
		}
		ended, kept := login(), login()
		cookie := func(c *http.Cookie) func(*http.Request) { return func(r *http.Request) { r.AddCookie(c) } }
		two.do(t, "GET", "/api/v1/whoami", "", cookie(ended)).want(t, 200, "the session on the other replica")
		one.do(t, "DELETE", "/api/v1/session", "", cookie(ended)).want(t, 204, "logout on the first replica")
		two.do(t, "GET", "/api/v1/whoami", "", cookie(ended)).want(t, 401, "the logged-out session on the other replica")
		one.do(t, "GET", "/api/v1/whoami", "", cookie(ended)).want(t, 401, "a copy of the logged-out cookie")
		two.do(t, "GET", "/api/v1/whoami", "", cookie(kept)).want(t, 200, "another session of the token")
	})
}

// TestAPIThrottleTokenName: session cookies that name a token but are not
// signed with its key, sent from many addresses, get that name throttled
// (logged once for the burst): the guesses are answered 429, while the
// token's good sessions, from any address, go on.
func TestAPIThrottleTokenName(t *testing.T) {
	b := apiSetup(t, func(o *admin.Options) { o.LoginFailures, o.LoginWindow = 3, 3*time.Minute })
	a := b.do(t, "POST", "/api/v1/session", `{"token":"`+apiOperatorToken+`"}`).want(t, 200, "login")
	good := (&http.Response{Header: a.header}).Cookies()[0]
	parts := strings.Split(good.Value, ".")
	forged := strings.Join(append(parts[:3:3], "bm90LXRoZS1zaWduYXR1cmU"), ".")
	from := func(n int, value string) int {
		req := httptest.NewRequest("GET", "/api/v1/whoami", nil)
		req.RemoteAddr = fmt.Sprintf("198.51.100.%d:40000", n)
		req.AddCookie(&http.Cookie{Name: "dvcwatch_session", Value: value})
		w := httptest.NewRecorder()
		b.h.ServeHTTP(w, req)
		return w.Code
	}
	for n := 1; n <= 3; n++ {
		if got := from(n, forged); got != 401 {
			t.Fatalf("forged cookie %d from its own address: %d, want 401", n, got)
		}
	}
	for n := 4; n <= 20; n++ {
		if got := from(n, forged); got != 429 {
			t.Errorf("forged cookie %d from its own address, the name out of tries: %d, want 429", n, got)
		}
		if got := from(n, good.Value); got != 200 {
			t.Errorf("the token's good session from address %d: %d, want 200", n, got)
		}
	}
	b.clock.advance(61 * time.Second)
	if got := from(21, forged); got != 401 {
		t.Errorf("a forged cookie a minute later: %d, want 401 (a try earned back)", got)
	}
	if got := from(22, forged); got != 429 {
		t.Errorf("the next one: %d, want 429", got)
	}
	if n := strings.Count(b.log.String(), "the token name is throttled"); n != 2 || !strings.Contains(b.log.String(), "token=otto") {
		t.Errorf("the name's throttling was logged %d times, want once per burst (2), naming otto:\n%s", n, b.log.String())
	}
	if strings.Contains(b.log.String(), "the client is throttled") {
		t.Errorf("an address with one failure was throttled:\n%s", b.log.String())
	}
}

// TestAPISecureCookie: the session cookie is Secure when
// admin.secure_cookies says so (behind a TLS proxy the connection is
// plain), and not on a plain deployment that turned it off.
func TestAPISecureCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		b := apiSetup(t, func(o *admin.Options) { o.SecureCookies = secure })
		for _, a := range []apiAnswer{
			b.do(t, "POST", "/api/v1/session", `{"token":"`+apiViewerToken+`"}`).want(t, 200, "login"),
			b.do(t, "DELETE", "/api/v1/session", "").want(t, 204, "logout"),
		} {
			cs := (&http.Response{Header: a.header}).Cookies()
			if len(cs) != 1 || cs[0].Secure != secure {
				t.Errorf("secure_cookies %t: cookies %+v, want one with Secure %t", secure, cs, secure)
			}
		}
	}
}
