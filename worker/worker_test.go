package worker_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// testRedisDB is the Redis database the worker tests own; they flush it.
// The connector health test owns healthRedisDB.
const (
	testRedisDB   = 9
	healthRedisDB = 11
)

func redisConfig(t *testing.T) config.Redis { return redisDB(t, testRedisDB) }

// redisDB flushes Redis database db for the test.
func redisDB(t *testing.T, db int) config.Redis {
	t.Helper()
	if os.Getenv("DVCWATCH_TEST_REDIS") == "off" {
		t.Skip("DVCWATCH_TEST_REDIS=off")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: db})
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v\nstart it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no", err)
	}
	return config.Redis{Addr: "127.0.0.1:6379", DB: db}
}

// TestTwoReplicasRunEachTickOnce runs two complete workers (scheduler, asynq
// server, handlers) on the same PostgreSQL and Redis against the simulator:
// every tick of the schedule becomes exactly one job run, and the store ends
// up equal to the simulator.
func TestTwoReplicasRunEachTickOnce(t *testing.T) {
	sim := portalsim.New(portalsim.Options{Seed: 3, Dossiers: 200})
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	db := storetest.Postgres(t)

	cfg := &config.Config{
		Redis: redisConfig(t),
		Connectors: []config.Connector{{
			Name: "onestop", Kind: config.KindOneStop, BaseURL: srv.URL,
			Username: portalsim.DefaultUsername, Password: config.NewSecret(portalsim.DefaultPassword),
			Timeout: 5 * time.Second, RateLimit: 1000, Burst: 10, PageSize: 50, Window: 24 * time.Hour,
			Overlap: time.Minute, MaxRetries: 3,
		}},
		Schedules: []config.Schedule{{
			Name: "sync-onestop", Cron: "@every 1s", Job: config.JobSync, Connector: "onestop", Timezone: config.DefaultTimezone,
		}},
		// No email is due in this test; the sender needs a server to name.
		SMTP:            config.SMTP{Host: "127.0.0.1", Port: 2525, From: "canhbao@x.example", TLS: config.TLSNone, Timeout: time.Second},
		ShutdownTimeout: 5 * time.Second,
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, cancel := context.WithTimeout(context.Background(), 4500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		rdb, err := worker.OpenRedis(cfg.Redis)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := worker.New(cfg, db, log, worker.WithRedis(rdb))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer rdb.Close()
			if err := worker.Run(ctx, svc); err != nil {
				t.Errorf("worker: %v", err)
			}
		})
	}
	wg.Wait()

	runs, err := db.JobRuns(context.Background(), "sync", 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	succeeded := 0
	for _, r := range runs {
		if seen[r.TaskID] {
			t.Errorf("tick %s ran twice", r.TaskID)
		}
		seen[r.TaskID] = true
		switch r.Status {
		case dvcwatch.RunSucceeded:
			succeeded++
		case dvcwatch.RunSkipped: // an earlier tick's pass still held the lease
		default:
			t.Errorf("run %s: %s %s", r.TaskID, r.Status, r.Error)
		}
	}
	t.Logf("%d ticks ran, %d synced, the rest found the previous pass still running", len(runs), succeeded)
	if succeeded < 2 {
		t.Errorf("%d successful sync runs in 4.5 s of @every 1s, want at least 2: %+v", succeeded, runs)
	}
	totals, err := db.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := sim.Census().Dossiers; totals.Dossiers["onestop"] != want {
		t.Errorf("stored %d dossiers, the simulator has %d", totals.Dossiers["onestop"], want)
	}
}

// TestRunStopsWhenTheSchedulerCannotStart: a schedule that cannot run stops
// the whole worker at once, with an error that names it, rather than a
// worker that serves tasks but never enqueues the schedule's.
func TestRunStopsWhenTheSchedulerCannotStart(t *testing.T) {
	cfg := &config.Config{
		Redis:           redisConfig(t),
		Schedules:       []config.Schedule{{Name: "typo", Cron: "0 8 * *", Job: config.JobDetect, Timezone: config.DefaultTimezone}},
		SMTP:            config.SMTP{Host: "127.0.0.1", Port: 2525, From: "canhbao@x.example", TLS: config.TLSNone, Timeout: time.Second},
		ShutdownTimeout: 5 * time.Second,
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rdb, err := worker.OpenRedis(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	svc, err := worker.New(cfg, storetest.SQLite(t), log, worker.WithRedis(rdb))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = worker.Run(ctx, svc)
	if err == nil || !strings.Contains(err.Error(), "scheduler: schedule typo") {
		t.Errorf("Run = %v, want the scheduler's error naming the schedule", err)
	}
	if ctx.Err() != nil {
		t.Error("Run returned only when its context ended")
	}
}
