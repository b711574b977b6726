package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// rejected is the address the mail server refuses (550): the office's, which
// must learn of every delay, so that the routing addresses it in any commune.
const rejected = "vanphong@hoabinh.example"

// e2eConfig is the in-process tests' configuration: sync and detection every
// second, short timeouts.
func e2eConfig(t *testing.T, sim *portalsim.Sim, simURL string, smtpPort int, dsn string) (*config.Config, string) {
	t.Helper()
	path := e2e.WriteConfig(t, sim, e2e.Setup{
		DSN: dsn, SimURL: simURL, RedisDB: testRedisDB, SMTPPort: smtpPort, PageSize: 100,
		Schedules: `  - {name: sync, cron: "@every 1s", job: sync, connector: onestop}
  - {name: detect, cron: "@every 1s", job: detect}
`,
		SMTPTimeout: "2s", Token: "0123456789abcdef", Shutdown: "3s", LogLevel: "warn", LogFmt: "text",
		Admin: "  listen: 127.0.0.1:0 # any free port: tests run beside other servers\n",
	})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// startWorker runs one in-process worker until the returned stop is called.
func startWorker(t *testing.T, cfg *config.Config, db *store.DB, opts ...worker.RunOptions) (stop func()) {
	t.Helper()
	return startLoggedWorker(t, cfg, db, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), opts...)
}

// startLoggedWorker is startWorker logging to log.
func startLoggedWorker(t *testing.T, cfg *config.Config, db *store.DB, log *slog.Logger, opts ...worker.RunOptions) (stop func()) {
	t.Helper()
	rdb, err := worker.OpenRedis(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := worker.New(cfg, db, log, worker.WithRedis(rdb))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer rdb.Close()
		o := worker.RunOptions{DeliverRetryDelay: func(int) time.Duration { return 500 * time.Millisecond }}
		if len(opts) > 0 {
			o = opts[0]
		}
		err := worker.RunWith(ctx, svc, o)
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	return func() { cancel(); <-done }
}

// allSettled reports whether detection has created emails and none is pending.
func allSettled(t *testing.T, db *store.DB) bool {
	c := e2e.Counts(t, db)
	return c["sent"] > 0 && c["pending"] == 0
}

// TestAlertsEndToEnd runs a whole worker against the simulator, PostgreSQL,
// Redis and an SMTP server on loopback: dossiers are synced, breaches detected,
// the right people get one digest each, a rejected address is not retried, and
// further passes send nothing new.
func TestAlertsEndToEnd(t *testing.T) {
	sim, simURL := startSim(t, 21, 400)
	mail := e2e.StartMail(t, "127.0.0.1:0")
	mail.Reject(rejected)
	db := storetest.Postgres(t)
	redisConfig(t) // flushes the test database
	cfg, _ := e2eConfig(t, sim, simURL, mail.Port(), "unused: the test passes its store")

	stop := startWorker(t, cfg, db)
	defer stop()
	e2e.WaitFor(t, 60*time.Second, "no email delivered, or some still pending", func() bool { return allSettled(t, db) })
	ns := e2e.CheckOnce(t, db, mail)
	t.Logf("first passes: %v emails, %d accepted by the mail server", e2e.Counts(t, db), len(mail.Messages()))

	// One email per recipient per pass: a pass's emails share its time, and
	// each holds all the recipient's breaches of that pass.
	perPass := map[string]int{}
	for _, n := range ns {
		if n.Kind == dvcwatch.NotificationAlerts {
			perPass[n.Email+" "+n.CreatedAt.String()]++
		}
	}
	for k, c := range perPass {
		if c > 1 {
			t.Errorf("%d digests to the same recipient in one pass: %s", c, k)
		}
	}

	// The right people: every open overdue breach reaches its official and
	// the head of the department; every due-soon one its official.
	dir := sim.Directory()
	emailOf, headOf := map[string]string{}, map[string]string{}
	for _, o := range dir.Officials {
		emailOf[o.ID] = o.Email
	}
	for _, d := range dir.Departments {
		headOf[d.Code] = emailOf[d.Head]
	}
	text := map[string]string{} // address → all raw mail it received
	for _, m := range mail.Messages() {
		text[m.To[0]] += string(m.Raw)
	}
	for _, kind := range []dvcwatch.BreachKind{dvcwatch.BreachOverdue, dvcwatch.BreachDueSoon} {
		bs, err := db.Breaches(context.Background(), store.BreachFilter{OpenOnly: true, Kind: kind, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == 0 {
			t.Fatalf("no open %s breach: the simulator's commune should have some", kind)
		}
		for _, b := range bs {
			want := []string{emailOf[b.Official]}
			if kind == dvcwatch.BreachOverdue {
				want = append(want, headOf[b.Department])
			}
			for _, addr := range want {
				if addr == "" || addr == rejected {
					continue
				}
				if !strings.Contains(text[addr], b.Key.Code) {
					t.Errorf("%s breach of %s: %s received no email naming it", kind, b.Key.Code, addr)
				}
			}
		}
	}

	// The rejected address: recorded with the reason, tried once.
	failed := 0
	for _, n := range ns {
		if n.Email != rejected {
			continue
		}
		failed++
		if n.FailedAt.IsZero() || !strings.Contains(n.LastError, "550") || n.Attempts != 1 {
			t.Errorf("rejected notification %d: failed_at=%v attempts=%d error=%q; want failed once with the 550", n.ID, n.FailedAt, n.Attempts, n.LastError)
		}
	}
	if failed == 0 {
		t.Errorf("no notification for %s, which the routing should have addressed", rejected)
	}

	// Later passes (the simulator's time stands still) send nothing new.
	before := len(mail.Messages())
	runs := detectRuns(t, db)
	e2e.WaitFor(t, 30*time.Second, "two more detection passes", func() bool { return detectRuns(t, db) >= runs+2 })
	time.Sleep(time.Second) // a last delivery would have left by now
	if after := len(mail.Messages()); after != before {
		t.Errorf("further passes sent %d more emails", after-before)
	}
	e2e.CheckOnce(t, db, mail)
}

func detectRuns(t *testing.T, db *store.DB) int {
	runs, err := db.JobRuns(context.Background(), "detect", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Status == dvcwatch.RunSucceeded {
			n++
		}
	}
	return n
}

// TestSMTPDownThenUp: with the mail server down, deliveries are retried with
// backoff; once it is up every email arrives, once.
func TestSMTPDownThenUp(t *testing.T) {
	sim, simURL := startSim(t, 22, 300)
	port := e2e.FreePort(t)
	db := storetest.Postgres(t)
	redisConfig(t)
	cfg, _ := e2eConfig(t, sim, simURL, port, "unused")

	stop := startWorker(t, cfg, db)
	defer stop()
	e2e.WaitFor(t, 60*time.Second, "no delivery attempt failed while the mail server was down", func() bool {
		ns, err := db.Notifications(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		retried := 0
		for _, n := range ns {
			if n.Attempts >= 2 && n.SentAt.IsZero() {
				retried++
			}
		}
		return retried > 0
	})
	if c := e2e.Counts(t, db); c["sent"] != 0 || c["failed"] != 0 {
		t.Fatalf("with the server down: %v; want nothing sent and nothing given up yet", c)
	}

	mail := e2e.StartMail(t, fmt.Sprintf("127.0.0.1:%d", port))
	e2e.WaitFor(t, 60*time.Second, "emails still pending after the mail server came back", func() bool { return allSettled(t, db) })
	e2e.CheckOnce(t, db, mail)
	t.Logf("after the mail server came back: %v", e2e.Counts(t, db))
	if c := e2e.Counts(t, db); c["failed"] != 0 {
		t.Errorf("%d emails failed; all should have been delivered", c["failed"])
	}
}

// TestSMTPDownArchivesThenAdminRetries: with the mail server down through
// every retry, each delivery task is archived and its row marked failed; an
// administrator's "retry all archived" after the server is back delivers each
// email once.
func TestSMTPDownArchivesThenAdminRetries(t *testing.T) {
	sim, simURL := startSim(t, 24, 250)
	port := e2e.FreePort(t)
	db := storetest.Postgres(t)
	redisConfig(t)
	cfg, _ := e2eConfig(t, sim, simURL, port, "unused")
	stop := startWorker(t, cfg, db, worker.RunOptions{
		DeliverRetryDelay:        func(int) time.Duration { return 50 * time.Millisecond },
		DelayedTaskCheckInterval: 100 * time.Millisecond,
	})
	defer stop()
	e2e.WaitFor(t, 90*time.Second, "emails not all given up while the mail server stayed down", func() bool {
		c := e2e.Counts(t, db)
		return c["failed"] > 0 && c["pending"] == 0
	})
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: cfg.Redis.Addr, DB: cfg.Redis.DB})
	defer insp.Close()
	// A row is marked failed by its last attempt, and its task archived (and
	// recorded in SQL) after that attempt returns: wait for the archive too.
	failed := e2e.Counts(t, db)["failed"]
	var archived []*asynq.TaskInfo
	e2e.WaitFor(t, 30*time.Second, "failed emails without an archived task", func() bool {
		var err error
		if archived, err = insp.ListArchivedTasks(jobs.DeliveryQueue, asynq.PageSize(1000)); err != nil {
			t.Fatal(err)
		}
		return len(archived) >= failed
	})
	if len(archived) != failed {
		t.Errorf("%d archived tasks for %d failed emails", len(archived), failed)
	}
	recorded, err := db.FailedTasks(context.Background(), true, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) != failed {
		t.Errorf("%d failed tasks recorded in SQL for %d archived", len(recorded), failed)
	}
	for _, task := range archived {
		if task.Type != jobs.TypeDeliver || task.Retried != jobs.DeliverMaxRetry {
			t.Errorf("archived %s after %d retries, want %s after %d", task.Type, task.Retried, jobs.TypeDeliver, jobs.DeliverMaxRetry)
		}
	}
	ns, err := db.Notifications(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Attempts != jobs.DeliverMaxRetry+1 || n.LastError == "" {
			t.Errorf("notification %d: %d attempts, error %q; want %d and the reason", n.ID, n.Attempts, n.LastError, jobs.DeliverMaxRetry+1)
		}
	}

	mail := e2e.StartMail(t, fmt.Sprintf("127.0.0.1:%d", port))
	if _, err := insp.RunAllArchivedTasks(jobs.DeliveryQueue); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, 30*time.Second, "the administrator's retry did not deliver everything", func() bool {
		c := e2e.Counts(t, db)
		return c["failed"] == 0 && c["pending"] == 0 && c["sent"] == failed
	})
	e2e.CheckOnce(t, db, mail)
}

// TestKillMidDelivery kills a dvcwatch serve process (SIGKILL) while the mail
// server holds its first message in DATA, starts a new one, and checks that
// every notification arrives exactly once.
func TestKillMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and waits for the queue's lease recovery (about a minute)")
	}
	bin := e2e.Build(t)
	sim, simURL := startSim(t, 23, 300)
	mail := e2e.StartMail(t, "127.0.0.1:0")
	db, dsn := storetest.PostgresDSN(t)
	redisConfig(t)
	_, path := e2eConfig(t, sim, simURL, mail.Port(), dsn)

	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--config", path)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// Held at RCPT: the kill lands before any of the message is sent. (Held in
	// DATA, the client may have sent it all, and a server accepts a message
	// whose sender died waiting for the reply: SMTP's one window for a
	// duplicate, which the README describes.)
	mail.HoldRecipients()
	first := serve()
	select {
	case <-mail.DataStarted():
	case <-time.After(60 * time.Second):
		_ = first.Process.Kill()
		t.Fatal("no email reached RCPT within 60 s")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	mail.Release() // the killed conversation ends without a message
	if n := len(mail.Messages()); n != 0 {
		t.Fatalf("%d emails accepted before the kill; the held one must not be", n)
	}

	second := serve()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	// The killed process's task is recovered by asynq once its lease expires
	// (30 s, checked every minute), and its claim on the row is stale by then.
	e2e.WaitFor(t, 150*time.Second, "emails still pending after the restart", func() bool { return allSettled(t, db) })
	e2e.CheckOnce(t, db, mail)
	t.Logf("after the restart: %v, %d accepted", e2e.Counts(t, db), len(mail.Messages()))
}

// startSim serves a simulated commune over HTTP until the test ends.
func startSim(t *testing.T, seed int64, dossiers int) (*portalsim.Sim, string) {
	t.Helper()
	sim := portalsim.New(portalsim.Options{Seed: seed, Dossiers: dossiers})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return sim, srv.URL
}
