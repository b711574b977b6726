package worker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// serveRedisDB is the Redis database TestServeReplicas owns and flushes: its
// processes must not see the in-process workers' database (testRedisDB).
const serveRedisDB = 12

// serveShutdown is the shutdown_timeout the replicas run with; a SIGTERMed
// replica must be gone within it plus serveExitMargin.
const (
	serveShutdown   = 25 * time.Second
	serveExitMargin = 20 * time.Second
)

// serveToken is the replicas' admin token.
const serveToken = "0123456789abcdef"

// serveEvery are the test schedules and their @every intervals, by name.
var serveEvery = map[string]time.Duration{"sync": 2 * time.Second, "detect": 3 * time.Second, "dispatch": 5 * time.Second}

// TestServeReplicas runs two `dvcwatch serve` processes on one PostgreSQL
// schema and one Redis database against the simulator and a mail server on
// loopback. Both take work; each tick runs once. One replica is SIGTERMed while
// the mail server holds its delivery in DATA: it finishes that delivery, exits
// 0 and a replacement joins. Detection is then paused through the admin API
// so that the outbox can settle: every email arrived exactly once, every tick
// ran once, and the store holds what the simulator has.
func TestServeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three serve processes (about a minute)")
	}
	flushServeRedis(t)
	db, dsn := storetest.PostgresDSN(t)
	bin := e2e.Build(t)

	// The simulated time starts in the past and is advanced towards now:
	// serve judges dossiers by the wall clock, so what the simulator reports
	// must never be in the future. 30 days of history stay inside the first
	// sync's look-back.
	sim := portalsim.New(portalsim.Options{Seed: 31, Dossiers: 300, HistoryDays: 30,
		Start: time.Now().Add(-4 * 24 * time.Hour).Truncate(time.Minute)})
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	mail := e2e.StartMail(t, "127.0.0.1:0")
	portA, portB := e2e.FreePort(t), e2e.FreePort(t)
	cfgA := serveConfig(t, sim, simSrv.URL, mail.Port(), dsn, portA)
	cfgB := serveConfig(t, sim, simSrv.URL, mail.Port(), dsn, portB)

	// 1. Both replicas take work.
	a := e2e.StartServe(t, bin, "a", cfgA, portA)
	b := e2e.StartServe(t, bin, "b", cfgB, portB)
	a.WaitReady(t)
	b.WaitReady(t)
	e2e.WaitFor(t, 90*time.Second, "both replicas synced and every first email was sent", func() bool {
		return a.Log.Count("sync done") > 0 && b.Log.Count("sync done") > 0 && allSettled(t, db)
	})
	t.Logf("both replicas at work: %v; syncs a=%d b=%d", e2e.Counts(t, db), a.Log.Count("sync done"), b.Log.Count("sync done"))

	// 2. SIGTERM a replica while the mail server holds its delivery in DATA.
	heldFrom := time.Now()
	mail.Hold()
	advanceUntilHeld(t, sim, mail)
	victim, survivor := deliveringReplica(t, a, b, heldFrom)
	sentBefore := victim.Log.Count("email sent")
	if err := victim.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Well inside shutdown_timeout: the replica must still be finishing its
	// delivery rather than have dropped it.
	time.Sleep(2 * time.Second)
	if victim.Exited() {
		t.Fatalf("replica %s exited while its delivery was held; it should wait up to shutdown_timeout", victim.Name)
	}
	mail.Release()
	victim.WaitExit(t, serveShutdown+serveExitMargin)
	if victim.Log.Count("email sent") <= sentBefore {
		t.Errorf("replica %s sent nothing after SIGTERM; its held delivery should have finished", victim.Name)
	}
	for _, e := range victim.Log.Entries() {
		if msg, _ := e["msg"].(string); strings.HasPrefix(msg, "Quitting worker") || strings.HasPrefix(msg, "Pushed task") {
			t.Errorf("replica %s handed a task back at shutdown (%q): nothing should outlast shutdown_timeout here", victim.Name, msg)
		}
	}

	// 3. A replacement joins; the simulator moves on; everything settles.
	port := portA
	if victim == b {
		port = portB
	}
	c := e2e.StartServe(t, bin, "c", victim.Config, port)
	c.WaitReady(t)
	if _, err := sim.Advance(6 * 60); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, 90*time.Second, "the replacement synced and the store caught up with the simulator", func() bool {
		return c.Log.Count("sync done") > 0 && e2e.StoreMatchesSim(t, db, sim) == ""
	})
	// Detection judges by the wall clock, so a pass may find a new breach at
	// any time: pause it (through one replica's admin API, which every
	// replica's scheduler reads) so that the outbox can be seen complete.
	pauseSchedule(t, c, "detect")
	e2e.WaitFor(t, 60*time.Second, "both replicas applied the pause", func() bool {
		return survivor.Log.Count("scheduler: schedule changed") > 0 && c.Log.Count("scheduler: schedule changed") > 0
	})
	e2e.WaitFor(t, 90*time.Second, "every email sent once no detection was left to run", func() bool {
		if e2e.Queued(t, asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: serveRedisDB}, jobs.TypeDetect) > 0 {
			return false
		}
		nc := e2e.Counts(t, db)
		return nc["pending"] == 0 && nc["failed"] == 0
	})
	for _, p := range []*e2e.Serve{survivor, c} {
		if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*e2e.Serve{survivor, c} {
		p.WaitExit(t, serveShutdown+serveExitMargin)
	}
	procs := []*e2e.Serve{a, b, c}

	// Every email arrived once, and was sent by one process.
	ns := e2e.CheckOnce(t, db, mail)
	if nc := e2e.Counts(t, db); nc["pending"] != 0 || nc["failed"] != 0 || nc["sent"] != len(ns) {
		t.Errorf("outbox after the last shutdown: %v of %d; want every row sent", nc, len(ns))
	}
	sentBy := map[string][]string{}
	for _, p := range procs {
		for _, e := range p.Log.Entries() {
			if e["msg"] == "email sent" {
				id := fmt.Sprint(e["notification"])
				sentBy[id] = append(sentBy[id], p.Name)
			}
		}
	}
	for _, n := range ns {
		if id := strconv.FormatInt(n.ID, 10); len(sentBy[id]) != 1 {
			t.Errorf("notification %s: logged as sent by %v, want exactly one process", id, sentBy[id])
		}
	}

	// Every tick ran once, by one process, and none was skipped over.
	runs, err := db.JobRuns(context.Background(), "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	checkTicksOnce(t, runs)
	syncs := 0
	for _, r := range runs {
		if r.Job == "sync" && r.Status == dvcwatch.RunSucceeded {
			syncs++
		}
	}
	logged := 0
	for _, p := range procs {
		logged += p.Log.Count("sync done")
	}
	if logged != syncs {
		t.Errorf("the processes logged %d finished syncs, job_runs holds %d", logged, syncs)
	}
	if d := e2e.StoreMatchesSim(t, db, sim); d != "" {
		t.Errorf("after the last shutdown: %s", d)
	}
	t.Logf("%d job runs, %d emails; syncs a=%d b=%d c=%d; %s was SIGTERMed mid-delivery", len(runs), len(ns),
		a.Log.Count("sync done"), b.Log.Count("sync done"), c.Log.Count("sync done"), victim.Name)
}

// checkTicksOnce checks job_runs: every run came from a schedule's tick, no
// tick ran twice, nothing failed, and between a schedule's first and last run
// no tick is missing.
func checkTicksOnce(t *testing.T, runs []dvcwatch.JobRun) {
	t.Helper()
	seen := map[string]int{}
	ticks := map[string][]time.Time{}
	for _, r := range runs {
		seen[r.TaskID]++
		if r.Status != dvcwatch.RunSucceeded && r.Status != dvcwatch.RunSkipped {
			t.Errorf("run %s: %s %s", r.TaskID, r.Status, r.Error)
		}
		name, at, ok := strings.Cut(r.TaskID, "@")
		tick, err := time.Parse(time.RFC3339, at)
		if !ok || err != nil || name != r.Schedule {
			t.Errorf("run %d of %s: task id %q is not <schedule>@<tick>", r.ID, r.Schedule, r.TaskID)
			continue
		}
		ticks[name] = append(ticks[name], tick)
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("tick %s ran %d times", id, n)
		}
	}
	for name, every := range serveEvery {
		ts := ticks[name]
		slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
		ts = slices.Compact(ts)
		if len(ts) < 3 {
			t.Errorf("schedule %s: %d ticks ran, want several", name, len(ts))
			continue
		}
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap != every {
				t.Errorf("schedule %s (@every %s): no run between ticks %s and %s", name, every,
					ts[i-1].Format(time.TimeOnly), ts[i].Format(time.TimeOnly))
			}
		}
	}
}

// advanceUntilHeld moves the simulated time a day at a time until detection
// has new emails and one of them reaches DATA, where the mail server holds it.
func advanceUntilHeld(t *testing.T, sim *portalsim.Sim, mail *mailcatch.Catcher) {
	t.Helper()
	for day := 1; ; day++ {
		if _, err := sim.Advance(24 * 60); err != nil {
			t.Fatal(err)
		}
		select {
		case <-mail.DataStarted():
			return
		case <-time.After(30 * time.Second):
			if day == 3 {
				t.Fatal("three simulated days brought no new email to DATA")
			}
		}
	}
}

// deliveringReplica returns the replica whose asynq server reports a delivery
// started since the mail server holds DATA, and the other one. The heartbeat
// behind the report is written every 5 s: an older delivery may still show.
func deliveringReplica(t *testing.T, a, b *e2e.Serve, since time.Time) (victim, other *e2e.Serve) {
	t.Helper()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: serveRedisDB})
	defer insp.Close()
	e2e.WaitFor(t, 30*time.Second, "no replica reports a delivery in progress", func() bool {
		servers, err := insp.Servers()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range servers {
			for _, w := range s.ActiveWorkers {
				if w.TaskType != jobs.TypeDeliver || w.Started.Before(since) {
					continue
				}
				switch s.PID {
				case a.Cmd.Process.Pid:
					victim, other = a, b
				case b.Cmd.Process.Pid:
					victim, other = b, a
				}
			}
		}
		return victim != nil
	})
	return victim, other
}

// pauseSchedule pauses a schedule through p's admin API.
func pauseSchedule(t *testing.T, p *e2e.Serve, name string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.Admin+"/api/v1/schedules/"+name+"/pause", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+serveToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pause %s through replica %s: %s", name, p.Name, resp.Status)
	}
}

// serveConfig writes the configuration of one replica: the simulator's
// commune, its one-stop connector, short schedules, mail to smtpPort (a
// timeout longer than the test holds a message in DATA, shorter than
// shutdown_timeout), the admin server on adminPort, and JSON logs at info
// level (the test reads them).
func serveConfig(t *testing.T, sim *portalsim.Sim, simURL string, smtpPort int, dsn string, adminPort int) string {
	t.Helper()
	return e2e.WriteConfig(t, sim, e2e.Setup{
		DSN: dsn, SimURL: simURL, RedisDB: serveRedisDB, SMTPPort: smtpPort, PageSize: 50,
		Schedules: fmt.Sprintf(`  - {name: sync, cron: "@every %s", job: sync, connector: onestop}
  - {name: detect, cron: "@every %s", job: detect}
  - {name: dispatch, cron: "@every %s", job: notify}
`, serveEvery["sync"], serveEvery["detect"], serveEvery["dispatch"]),
		SMTPTimeout: "20s", Admin: fmt.Sprintf("  listen: 127.0.0.1:%d\n", adminPort), Token: serveToken,
		Shutdown: serveShutdown.String(), LogLevel: "info", LogFmt: "json",
	})
}

// flushServeRedis empties serveRedisDB, or skips the test if
// DVCWATCH_TEST_REDIS is off.
func flushServeRedis(t *testing.T) {
	t.Helper()
	if os.Getenv("DVCWATCH_TEST_REDIS") == "off" {
		t.Skip("DVCWATCH_TEST_REDIS=off")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: serveRedisDB})
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v\nstart it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no", err)
	}
}
