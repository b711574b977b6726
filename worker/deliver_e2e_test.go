package worker_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// deliverRedisDB is the Redis database the delivery tests own; they flush it.
const deliverRedisDB = 5

// deliverySetup starts what the delivery tests share: a small commune in the
// simulator, a mail server, and a configuration on PostgreSQL at dsn (a
// proxy's, for the outage test) and Redis database deliverRedisDB, whose
// schedules are the given YAML list items.
func deliverySetup(t *testing.T, dsn string, e e2e.Setup) (*config.Config, *mailcatch.Catcher) {
	t.Helper()
	redisDB(t, deliverRedisDB)
	sim, simURL := startSim(t, 41, 5)
	mail := e2e.StartMail(t, "127.0.0.1:0")
	e.DSN, e.SimURL, e.RedisDB, e.SMTPPort, e.PageSize = dsn, simURL, deliverRedisDB, mail.Port(), 100
	e.Token, e.LogLevel, e.LogFmt = "0123456789abcdef", "warn", "text"
	e.Admin = "  listen: 127.0.0.1:0\n"
	e.Shutdown = cmp.Or(e.Shutdown, "3s")
	cfg, err := config.Load(e2e.WriteConfig(t, sim, e))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, mail
}

// addEmails writes n emails to the outbox, as detection would.
func addEmails(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		_, _, err := db.AddNotification(context.Background(), dvcwatch.NewNotification{
			DedupeKey: fmt.Sprintf("test:%d", i), Kind: dvcwatch.NotificationAlerts, Recipient: "binh",
			Email: fmt.Sprintf("binh%d@hoabinh.example", i), Subject: fmt.Sprintf("Hồ sơ %d", i), Text: "quá hạn",
		}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sentOnce checks that the outbox's want emails are all sent, none pending
// or failed, and that the server holds each of them once, by Message-ID.
func sentOnce(t *testing.T, db *store.DB, mail *mailcatch.Catcher, want int) {
	t.Helper()
	if c := e2e.Counts(t, db); c["sent"] != want || c["pending"] != 0 || c["failed"] != 0 {
		t.Errorf("outbox %v: want %d sent", c, want)
	}
	e2e.CheckOnce(t, db, mail)
	seen := map[string]int{}
	for _, m := range mail.Messages() {
		seen[m.Header.Get("Message-Id")]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("Message-ID %s received %d times", id, n)
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct Message-IDs received, want %d", len(seen), want)
	}
}

// TestSlowEndOfDataDeliversOnce is the fault matrix's slow mail server: it
// answers the end of each message 12 s after it, past smtp.timeout (10 s),
// and then drops the connection at QUIT. Each email arrives once (by
// Message-ID) and is recorded sent; none is failed or sent again.
func TestSlowEndOfDataDeliversOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("the server answers each message after 12 s")
	}
	db, dsn := storetest.PostgresDSN(t)
	cfg, mail := deliverySetup(t, dsn, e2e.Setup{SMTPTimeout: "10s", SMTPDataTimeout: "1m", Shutdown: "15s"})
	mail.DelayReply(12 * time.Second)
	mail.DropAtQuit()
	const n = 4 // one per delivery worker
	addEmails(t, db, n)
	start := time.Now()
	stop := startWorker(t, cfg, db)
	defer stop()
	e2e.WaitFor(t, 90*time.Second, "emails sent", func() bool { return e2e.Counts(t, db)["sent"] == n })
	t.Logf("%d emails sent in %v", n, time.Since(start).Round(time.Millisecond))
	sentOnce(t, db, mail, n)
}

// TestDatabaseOutageAfterAcceptance is the fault matrix's PostgreSQL outage:
// the mail server accepts the emails while the database is unreachable (a
// proxy in front of it, cut), so that no mark-sent can be written. Each
// delivery keeps retrying it, logging once, until the database is back;
// then, with Redis flushed and a new worker's dispatcher run over the
// outbox, no email is sent again and every row is sent. (Before, the mark
// was given up after three tries a second apart, the claim was stale after
// twice smtp.timeout, and the dispatcher sent each email again.)
func TestDatabaseOutageAfterAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a database outage for several seconds")
	}
	db, dsn := storetest.PostgresDSN(t)
	pg := startProxy(t, postgresAddr(t, dsn))
	cfg, mail := deliverySetup(t, replaceHost(t, dsn, pg.addr), e2e.Setup{SMTPTimeout: "2s", SMTPDataTimeout: "1m"})
	const n = 3
	addEmails(t, db, n)
	mail.Hold() // each message waits in DATA: written, its end not yet answered
	// The worker reaches the database through the proxy only; the test
	// reads it directly.
	proxied, err := store.Open(context.Background(), store.DriverPostgres, replaceHost(t, dsn, pg.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close()
	var log e2e.Log
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the worker logged:\n%s", log.Tail(100))
		}
	})
	stop := startLoggedWorker(t, cfg, proxied, slog.New(slog.NewJSONHandler(&log, nil)))
	for range n {
		select {
		case <-mail.DataStarted():
		case <-time.After(60 * time.Second):
			t.Fatal("the emails did not reach DATA within 60 s")
		}
	}
	pg.close() // the database is gone while the server decides
	mail.Release()
	// The warnings of the retrying deliveries are the outage's (package
	// outage keeps an outage to two lines); notify's tests count them.
	e2e.WaitFor(t, 60*time.Second, "the server accepting the emails", func() bool { return mail.Count() == n })
	e2e.WaitFor(t, 60*time.Second, "the outage seen", func() bool {
		return log.Count("database unreachable; trying again every 5s, and saying nothing more until it answers") == 1
	})
	outage := time.Now()
	// Longer than the old three tries a second apart, and than the old claim
	// staleness (twice smtp.timeout).
	e2e.WaitFor(t, 60*time.Second, "ten seconds of outage", func() bool { return time.Since(outage) > 10*time.Second })
	pg.open(t)
	e2e.WaitFor(t, 60*time.Second, "emails recorded sent after the outage", func() bool { return e2e.Counts(t, db)["sent"] == n })
	if r := log.Count("email recorded as sent after the database returned"); r != n {
		t.Errorf("logged %d recoveries, want %d: one per email, not per attempt", r, n)
	}
	stop()

	// Redis loses its data; a new worker's dispatcher reads the outbox.
	redisDB(t, deliverRedisDB)
	var again e2e.Log
	stop = startLoggedWorker(t, cfg, proxied, slog.New(slog.NewJSONHandler(&again, nil)))
	defer stop()
	e2e.WaitFor(t, 30*time.Second, "the new worker started", func() bool { return again.Count("worker started") == 1 })
	if q := queuedDeliveries(t); q != 0 {
		t.Errorf("%d deliveries queued again after the flush, want none", q)
	}
	sentOnce(t, db, mail, n)
}

// TestJobsNotDelayedByMailBacklog: with every delivery worker held by a mail
// server that does not answer, and more emails waiting behind them,
// detection passes still run on their schedule (the jobs have their own
// queue and workers); the emails all go out, once, when the server answers.
func TestJobsNotDelayedByMailBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a worker with a held mail server")
	}
	db, dsn := storetest.PostgresDSN(t)
	cfg, mail := deliverySetup(t, dsn, e2e.Setup{SMTPTimeout: "2s", SMTPDataTimeout: "2m",
		Schedules: "  - {name: detect, cron: \"@every 1s\", job: detect}\n"})
	const n = 12 // three times the delivery workers
	addEmails(t, db, n)
	mail.Hold()
	stop := startWorker(t, cfg, db)
	defer stop()
	for range cfg.Notify.DeliveryWorkers {
		select {
		case <-mail.DataStarted():
		case <-time.After(60 * time.Second):
			t.Fatal("the delivery workers did not all reach DATA within 60 s")
		}
	}
	runs := detectRuns(t, db)
	e2e.WaitFor(t, 30*time.Second, "two detection passes while the mail is held", func() bool { return detectRuns(t, db) >= runs+2 })
	if held := mail.Count(); held != 0 {
		t.Fatalf("%d emails accepted: the server was to hold them all", held)
	}
	if q := queuedDeliveries(t); q < n-cfg.Notify.DeliveryWorkers {
		t.Errorf("%d deliveries waiting, want at least %d behind the held ones", q, n-cfg.Notify.DeliveryWorkers)
	}
	mail.Release()
	e2e.WaitFor(t, 60*time.Second, "emails sent after the release", func() bool { return e2e.Counts(t, db)["sent"] == n })
	sentOnce(t, db, mail, n)
}

// queuedDeliveries counts the delivery tasks waiting (pending, scheduled or
// retrying) in the deliveries' queue.
func queuedDeliveries(t *testing.T) int {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: deliverRedisDB})
	defer c.Close()
	n := 0
	for _, key := range []string{"pending", "scheduled", "retry"} {
		k := "asynq:{dvcwatch-mail}:" + key
		var v int64
		var err error
		if key == "pending" {
			v, err = c.LLen(context.Background(), k).Result()
		} else {
			v, err = c.ZCard(context.Background(), k).Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		n += int(v)
	}
	return n
}
