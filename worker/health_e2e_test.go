package worker_test

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/lease"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// healthAdmin is the address told when a connector stops or recovers.
const healthAdmin = "it@hoabinh.example"

// TestWrongPasswordMailsOnceAndRecovers runs a whole worker whose one-stop
// account has a wrong password, with a sync every second: the first tick
// fails and stops the connector, the administrator gets one email and the
// API one stopped connector, and every later tick is a skipped run, however
// many pass; a run by hand still runs (and fails again, telling no one
// again). Restarted with the password fixed, the worker syncs at its next
// tick and the administrator gets one email saying it recovered. Then the
// portal locks the account: stopped again, told again; once the portal
// unlocks it, the configuration being the same, ticks stay skipped until a
// run by hand succeeds, which is told as a recovery.
func TestWrongPasswordMailsOnceAndRecovers(t *testing.T) {
	sim := portalsim.New(portalsim.Options{Seed: 31, Dossiers: 150})
	var locked atomic.Bool // the portal refuses the account, whatever its password
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if locked.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_credentials","message":"Tài khoản đã bị khoá"}`))
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { portal.Close(); sim.Close() })
	simURL := portal.URL
	mail := e2e.StartMail(t, "127.0.0.1:0")
	db := storetest.Postgres(t)
	redisDB(t, healthRedisDB)
	ctx := context.Background()
	withPassword := func(password string) *config.Config {
		path := e2e.WriteConfig(t, sim, e2e.Setup{
			DSN: "unused: the test passes its store", SimURL: simURL, RedisDB: healthRedisDB, SMTPPort: mail.Port(), PageSize: 100,
			Schedules:   "  - {name: sync, cron: \"@every 1s\", job: sync, connector: onestop}\n",
			SMTPTimeout: "2s", Token: "0123456789abcdef", Shutdown: "3s", LogLevel: "warn", LogFmt: "text",
			Admin: "  listen: 127.0.0.1:0\n", Password: password, Admins: "[" + healthAdmin + "]",
		})
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	// The wrong password: one failure, then skipped ticks.
	api, stop := startWorkerWithAPI(t, withPassword("wrong-password"), db)
	e2e.WaitFor(t, 30*time.Second, "no email to the administrator", func() bool { return len(adminMails(t, mail)) == 1 })
	e2e.WaitFor(t, 30*time.Second, "fewer than 5 skipped ticks", func() bool { return syncRuns(t, db)[dvcwatch.RunSkipped] >= 5 })
	runs := syncRuns(t, db)
	if runs[dvcwatch.RunFailed] != 1 || runs[dvcwatch.RunSucceeded] != 0 {
		t.Errorf("sync runs %v, want one failure and the rest skipped", runs)
	}
	if failed, err := db.FailedTasks(ctx, true, 100); err != nil || len(failed) != 1 || failed[0].Cause != dvcwatch.CausePortalCredentials {
		t.Errorf("failed tasks %+v, %v; want the one rejected sync, its cause recorded", failed, err)
	}
	skipped := lastGatedRun(t, db)
	if skipped.Status != dvcwatch.RunSkipped || !strings.Contains(skipped.Error, "connector onestop: stopped after a permanent failure at ") ||
		!strings.Contains(skipped.Error, "portal credentials rejected; fix the configuration or run it by hand (dvcwatch schedules run sync)") {
		t.Errorf("a later tick: %s %q, want skipped with the reason", skipped.Status, skipped.Error)
	}
	stopMail := adminMails(t, mail)[0]
	if subject := mailSubject(t, stopMail); subject != "dvcwatch: kết nối onestop đã dừng — Cổng từ chối tài khoản đăng nhập" {
		t.Errorf("the administrator's email: %q", subject)
	}
	if strings.Contains(string(stopMail.Raw), "wrong-password") {
		t.Error("the administrator's email shows the password")
	}
	ops := api.health(t)
	if len(ops.Connectors) != 1 || ops.Connectors[0].State != "stopped" || ops.Connectors[0].Cause != "portal_credentials" {
		t.Errorf("GET /api/v1/health: %+v, want the one connector stopped", ops.Connectors)
	}
	if m := api.metrics(t); !strings.Contains(m, `dvcwatch_connector_stopped{connector="onestop"} 1`) ||
		!strings.Contains(m, `dvcwatch_connector_up{connector="onestop"} 0`) || !strings.Contains(m, "dvcwatch_smtp_failing 0") {
		t.Errorf("/metrics while stopped:\n%s", grepLines(m, "dvcwatch_connector_", "dvcwatch_smtp_"))
	}

	// Run by hand with the same password: it runs, fails, tells no one again.
	var run admin.RunResult
	api.post(t, "/api/v1/schedules/sync/run", &run)
	e2e.WaitFor(t, 30*time.Second, "the run by hand did not run", func() bool {
		r, ok := runOf(t, db, run.TaskID)
		return ok && r.Status == dvcwatch.RunFailed
	})
	time.Sleep(2 * time.Second) // two more ticks, and time for any email to leave
	if n := len(adminMails(t, mail)); n != 1 {
		t.Errorf("%d emails to the administrator after the run by hand, want still 1", n)
	}
	stop()

	// The password fixed and the worker restarted: the next tick syncs.
	api, stop = startWorkerWithAPI(t, withPassword(portalsim.DefaultPassword), db)
	defer stop()
	e2e.WaitFor(t, 30*time.Second, "no recovery email", func() bool { return len(adminMails(t, mail)) == 2 })
	before := syncRuns(t, db)[dvcwatch.RunSucceeded]
	e2e.WaitFor(t, 30*time.Second, "syncs did not go on", func() bool { return syncRuns(t, db)[dvcwatch.RunSucceeded] >= before+3 })
	time.Sleep(time.Second)
	mails := adminMails(t, mail)
	if len(mails) != 2 {
		t.Fatalf("%d emails to the administrator, want the stop and the recovery", len(mails))
	}
	if subject := mailSubject(t, mails[1]); subject != "dvcwatch: kết nối onestop đã hoạt động lại" {
		t.Errorf("the second email: %q, want the recovery", subject)
	}
	if ops := api.health(t); ops.Connectors[0].State != "ok" || ops.Connectors[0].LastSuccess == nil {
		t.Errorf("GET /api/v1/health after the fix: %+v", ops.Connectors[0])
	}
	if m := api.metrics(t); !strings.Contains(m, `dvcwatch_connector_stopped{connector="onestop"} 0`) ||
		!strings.Contains(m, `dvcwatch_connector_up{connector="onestop"} 1`) {
		t.Errorf("/metrics after the fix:\n%s", grepLines(m, "dvcwatch_connector_"))
	}
	if totals, err := db.Totals(ctx); err != nil || totals.Dossiers["onestop"] != sim.Census().Dossiers {
		t.Errorf("stored %v (%v), the simulator has %d", totals.Dossiers, err, sim.Census().Dossiers)
	}

	// The portal locks the account: a new stop, told once.
	locked.Store(true)
	e2e.WaitFor(t, 30*time.Second, "no email about the second stop", func() bool { return len(adminMails(t, mail)) == 3 })
	if subject := mailSubject(t, adminMails(t, mail)[2]); !strings.Contains(subject, "đã dừng") {
		t.Errorf("the third email: %q, want a stop", subject)
	}
	// Unlocked by the portal's operator: the configuration is the same, so
	// the ticks stay skipped until someone runs the sync by hand.
	locked.Store(false)
	skippedBefore := syncRuns(t, db)[dvcwatch.RunSkipped]
	e2e.WaitFor(t, 30*time.Second, "ticks after the unlock were not skipped", func() bool {
		return syncRuns(t, db)[dvcwatch.RunSkipped] >= skippedBefore+2
	})
	if ops := api.health(t); ops.Connectors[0].State != "stopped" {
		t.Errorf("before the run by hand: %+v, want still stopped", ops.Connectors[0])
	}
	api.post(t, "/api/v1/schedules/sync/run", &run)
	e2e.WaitFor(t, 30*time.Second, "no recovery email after the run by hand", func() bool { return len(adminMails(t, mail)) == 4 })
	if r, ok := runOf(t, db, run.TaskID); !ok || r.Status != dvcwatch.RunSucceeded {
		t.Errorf("the run by hand: %+v, want it succeeded", r)
	}
	if subject := mailSubject(t, adminMails(t, mail)[3]); subject != "dvcwatch: kết nối onestop đã hoạt động lại" {
		t.Errorf("the fourth email: %q, want the recovery", subject)
	}
	before = syncRuns(t, db)[dvcwatch.RunSucceeded]
	e2e.WaitFor(t, 30*time.Second, "scheduled syncs did not resume", func() bool { return syncRuns(t, db)[dvcwatch.RunSucceeded] >= before+2 })
	time.Sleep(time.Second)
	if n := len(adminMails(t, mail)); n != 4 {
		t.Errorf("%d emails to the administrator in all, want 4: two stops, two recoveries", n)
	}
}

// apiClient calls a worker's admin API with the e2e configuration's token.
type apiClient struct{ base string }

// startWorkerWithAPI runs a worker whose admin API listens where the test
// can reach it.
func startWorkerWithAPI(t *testing.T, cfg *config.Config, db *store.DB) (apiClient, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := startWorker(t, cfg, db, worker.RunOptions{AdminListener: ln, DeliverRetryDelay: func(int) time.Duration { return 500 * time.Millisecond }})
	return apiClient{"http://" + ln.Addr().String()}, stop
}

func (a apiClient) get(t *testing.T, path string) []byte {
	t.Helper()
	return a.call(t, http.MethodGet, path)
}

func (a apiClient) post(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(a.call(t, http.MethodPost, path), v); err != nil {
		t.Fatal(err)
	}
}

func (a apiClient) call(t *testing.T, method, path string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer 0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s %s (%v)", method, path, resp.Status, b, err)
	}
	return b
}

func (a apiClient) health(t *testing.T) admin.Operations {
	t.Helper()
	var ops admin.Operations
	if err := json.Unmarshal(a.get(t, "/api/v1/health"), &ops); err != nil {
		t.Fatal(err)
	}
	return ops
}

func (a apiClient) metrics(t *testing.T) string {
	t.Helper()
	return string(a.get(t, "/metrics"))
}

// grepLines keeps the lines of s that start with one of prefixes.
func grepLines(s string, prefixes ...string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// adminMails are the messages the administrator received, in order.
func adminMails(t *testing.T, mail *mailcatch.Catcher) []mailcatch.Message {
	t.Helper()
	var out []mailcatch.Message
	for _, m := range mail.Messages() {
		if len(m.To) == 1 && m.To[0] == healthAdmin {
			out = append(out, m)
		}
	}
	return out
}

func mailSubject(t *testing.T, m mailcatch.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncRuns counts the sync runs by status.
func syncRuns(t *testing.T, db *store.DB) map[dvcwatch.RunStatus]int {
	t.Helper()
	runs, err := db.JobRuns(context.Background(), "sync", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[dvcwatch.RunStatus]int{}
	for _, r := range runs {
		n[r.Status]++
	}
	return n
}

// lastGatedRun returns the latest sync run that was not skipped for finding
// another run's lease: with a tick every second on a loaded machine, a tick
// may start while the previous one still holds the lease, and that skip is
// right but says nothing of the connector's health.
func lastGatedRun(t *testing.T, db *store.DB) dvcwatch.JobRun {
	t.Helper()
	runs, err := db.JobRuns(context.Background(), "sync", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status != dvcwatch.RunSkipped || !strings.Contains(r.Error, lease.ErrBusy.Error()) {
			return r
		}
	}
	t.Fatalf("no sync run but skipped ones that found the lease busy (%d runs)", len(runs))
	return dvcwatch.JobRun{}
}

// runOf returns the run of task id, if there is one yet.
func runOf(t *testing.T, db *store.DB, id string) (dvcwatch.JobRun, bool) {
	t.Helper()
	runs, err := db.JobRuns(context.Background(), "sync", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.TaskID == id {
			return r, true
		}
	}
	return dvcwatch.JobRun{}, false
}
