package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/redistest"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// sentinelMaster is the name the test's sentinels know the primary by.
const sentinelMaster = "dvcwatch"

// TestSentinelFailover runs a worker whose queue is a primary found through
// three sentinels, kills the primary (SIGKILL) while emails are being
// delivered (the mail server down, their retries queued), and checks that
// once the sentinels have promoted the replica the scheduled ticks go on and
// every email arrives exactly once.
//
// The replica is frozen from before the worker's first write until the kill:
// Redis replicates asynchronously, and this is its worst case, a promoted
// replica holding none of the queued deliveries. What brings them back is the
// outbox in SQL, which the dispatcher re-enqueues.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five redis-server processes and waits for a failover (about 25 s, 2.5 min at times)")
	}
	primary := redistest.Start(t)
	replica := redistest.Start(t, "replicaof 127.0.0.1 "+strconv.Itoa(primary.Port))
	var sentinels []*redistest.Server
	for range 3 {
		sentinels = append(sentinels, redistest.StartSentinel(t,
			"sentinel monitor "+sentinelMaster+" 127.0.0.1 "+strconv.Itoa(primary.Port)+" 2",
			"sentinel down-after-milliseconds "+sentinelMaster+" 1000",
			"sentinel failover-timeout "+sentinelMaster+" 2000"))
	}
	waitForSentinels(t, sentinels, replica)

	sim, simURL := startSim(t, 25, 1000) // enough breaches that most recipients get an email
	// The mail server is down until the failover: every email is still in
	// the queue, waiting for a retry, when the primary dies.
	mailPort := e2e.FreePort(t)
	db := storetest.Postgres(t)
	cfg, _ := e2eConfig(t, sim, simURL, mailPort, "unused: the test passes its store")
	cfg.Redis = config.Redis{Sentinel: config.Sentinel{MasterName: sentinelMaster}}
	for _, s := range sentinels {
		cfg.Redis.Sentinel.Addrs = append(cfg.Redis.Sentinel.Addrs, s.Addr)
	}
	// The built-in dispatcher runs every minute; every 2 s keeps the test short.
	cfg.Schedules = append(cfg.Schedules, config.Schedule{Name: "dispatch", Cron: "@every 2s", Job: config.JobNotify,
		Timezone: config.DefaultTimezone})

	// The replica holds nothing yet; frozen, it gets none of what follows.
	if n := dbSize(t, replica.Addr); n != 0 {
		t.Fatalf("the replica holds %d keys before the worker starts; want none", n)
	}
	replica.Pause(t)
	start := time.Now()
	// Retries 3 s apart: the ten a delivery gets last beyond the wait below.
	stop := startWorker(t, cfg, db, worker.RunOptions{DeliverRetryDelay: func(int) time.Duration { return 3 * time.Second }})
	defer stop()
	e2e.WaitFor(t, 60*time.Second, "the store did not catch up with the simulator", func() bool {
		totals, err := db.Totals(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return totals.Dossiers["onestop"] == sim.Census().Dossiers
	})
	caughtUp := time.Now()
	e2e.WaitFor(t, 30*time.Second, "no detection pass over every dossier, or no delivery tried", func() bool {
		return len(ticks(t, db, "detect", caughtUp, true)) > 0 && tried(t, db) > 0
	})

	atKill := e2e.Counts(t, db)
	killedAt := time.Now()
	primary.Kill(t)
	replica.Resume(t)
	t.Logf("primary killed %s after the worker started, emails then: %v, %d tried (the promoted replica holds none of their tasks)",
		killedAt.Sub(start).Round(time.Millisecond), atKill, tried(t, db))
	if atKill["pending"] == 0 || atKill["sent"] != 0 {
		t.Fatalf("emails at the kill: %v; the test needs some pending and none sent", atKill)
	}
	e2e.WaitFor(t, 60*time.Second, "the sentinels did not promote the replica", func() bool {
		return masterAddr(t, sentinels[0]) == replica.Addr
	})
	promoted := time.Now()
	t.Logf("replica promoted %s after the kill", promoted.Sub(killedAt).Round(time.Millisecond))
	mail := e2e.StartMail(t, "127.0.0.1:"+strconv.Itoa(mailPort))

	e2e.WaitFor(t, 60*time.Second, "three sync and three detection ticks after the failover", func() bool {
		return len(ticks(t, db, "sync", promoted, true)) >= 3 && len(ticks(t, db, "detect", promoted, true)) >= 3
	})
	// About one run in ten, one re-enqueued delivery task stays active on the
	// new master without being run, and its email arrives about two minutes
	// after the promotion: asynq's recoverer takes a task back once its
	// 30 s lease has been expired for 30 s, looking every minute (the cause
	// is not established: in the run traced, the task's id was one whose
	// attempt before the kill asynq was still trying to record against the
	// dead master). Hence three minutes here; the state is logged when it
	// happens.
	explained := false
	for deadline := promoted.Add(180 * time.Second); !allSettled(t, db); time.Sleep(200 * time.Millisecond) {
		if !explained && time.Since(promoted) > 20*time.Second {
			t.Log("emails still pending 20 s after the promotion:")
			explainPending(t, db, replica.Addr)
			explained = true
		}
		if time.Now().After(deadline) {
			t.Fatal("emails still pending 180 s after the promotion")
		}
	}
	settled := time.Now()
	// Two more detection passes send nothing new, and nothing arrives twice.
	runs := detectRuns(t, db)
	e2e.WaitFor(t, 30*time.Second, "two more detection passes", func() bool { return detectRuns(t, db) >= runs+2 })
	time.Sleep(time.Second) // a last delivery would have left by now
	e2e.CheckOnce(t, db, mail)

	final := e2e.Counts(t, db)
	if final["failed"] != 0 || final["pending"] != 0 {
		t.Errorf("after the failover: %v; want every email sent", final)
	}
	// Counted by Message-ID, as a mailbox would.
	byMessageID := map[string]int{}
	for _, m := range mail.Messages() {
		byMessageID[m.Header.Get("Message-Id")]++
	}
	for id, n := range byMessageID {
		if n != 1 {
			t.Errorf("Message-ID %s received %d times", id, n)
		}
	}
	if len(byMessageID) != final["sent"] {
		t.Errorf("%d distinct Message-IDs received for %d emails sent", len(byMessageID), final["sent"])
	}
	t.Logf("sync ticks before the kill %d, after the promotion %d; detection %d and %d; emails %d sent (%d of them pending at the kill, re-enqueued from the outbox), the last %s after the promotion, %d distinct Message-IDs; %s in all",
		len(ticks(t, db, "sync", killedAt, false)), len(ticks(t, db, "sync", promoted, true)),
		len(ticks(t, db, "detect", killedAt, false)), len(ticks(t, db, "detect", promoted, true)),
		final["sent"], atKill["pending"], settled.Sub(promoted).Round(100*time.Millisecond), len(byMessageID),
		time.Since(start).Round(time.Second))
}

// waitForSentinels waits until every sentinel knows the replica and the two
// other sentinels, so that they can agree on a failover, and the replica is in
// sync with the primary.
func waitForSentinels(t *testing.T, sentinels []*redistest.Server, replica *redistest.Server) {
	t.Helper()
	ctx := context.Background()
	for _, s := range sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		e2e.WaitFor(t, 30*time.Second, "sentinel "+s.Addr+" does not know the replica and the other sentinels", func() bool {
			m, err := c.Master(ctx, sentinelMaster).Result()
			return err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == strconv.Itoa(len(sentinels)-1)
		})
		_ = c.Close()
	}
	c := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer c.Close()
	e2e.WaitFor(t, 30*time.Second, "the replica is not in sync with the primary", func() bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && containsLine(info, "master_link_status:up")
	})
}

func containsLine(text, line string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// masterAddr is the primary's address as sentinel s tells it.
func masterAddr(t *testing.T, s *redistest.Server) string {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	addr, err := c.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
	if err != nil || len(addr) != 2 {
		return ""
	}
	return addr[0] + ":" + addr[1]
}

func dbSize(t *testing.T, addr string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	n, err := c.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ticks returns the job's successful scheduled runs started after t0 (after),
// or before it.
func ticks(t *testing.T, db *store.DB, job string, t0 time.Time, after bool) []dvcwatch.JobRun {
	t.Helper()
	runs, err := db.JobRuns(context.Background(), job, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []dvcwatch.JobRun
	for _, r := range runs {
		if r.Status == dvcwatch.RunSucceeded && r.StartedAt.After(t0) == after {
			out = append(out, r)
		}
	}
	return out
}

// tried counts the emails whose delivery was attempted.
func tried(t *testing.T, db *store.DB) int {
	t.Helper()
	ns, err := db.Notifications(context.Background(), 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range ns {
		if x.Attempts > 0 {
			n++
		}
	}
	return n
}

// explainPending logs the tasks the workers run, and for each email not sent
// its row and its task on the new master.
func explainPending(t *testing.T, db *store.DB, master string) {
	ns, err := db.Notifications(context.Background(), 100000)
	if err != nil {
		t.Log(err)
		return
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: master})
	defer insp.Close()
	if servers, err := insp.Servers(); err == nil {
		for _, srv := range servers {
			for _, w := range srv.ActiveWorkers {
				t.Logf("server %s runs %s %s since %s", srv.ID, w.TaskType, w.TaskID, w.Started)
			}
		}
	}
	for _, n := range ns {
		if !n.SentAt.IsZero() {
			continue
		}
		info, err := insp.GetTaskInfo(jobs.DeliveryQueue, jobs.DeliverTaskID(n.ID))
		state := fmt.Sprint(err)
		if info != nil {
			state = fmt.Sprintf("%s retried=%d next=%s completed=%s lastErr=%q", info.State, info.Retried, info.NextProcessAt, info.CompletedAt, info.LastErr)
		}
		t.Logf("pending %d: attempts=%d enqueued=%s failed=%s err=%q; task: %s", n.ID, n.Attempts, n.EnqueuedAt, n.FailedAt, n.LastError, state)
	}
}
