package scheduler_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// The store and the asynq client are what the worker will pass.
var (
	_ scheduler.TickStore = (*store.DB)(nil)
	_ scheduler.Enqueuer  = (*asynq.Client)(nil)
)

// envRedis names the variable holding the test Redis address, or "off".
const envRedis = "DVCWATCH_TEST_REDIS"

const redisHint = `start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no` +
	" (or set " + envRedis + " to its host:port, or to off to skip the Redis tests)"

var hcm = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// dialer makes Redis clients to one server; every replica gets its own.
type dialer func() redis.UniversalClient

// realRedis returns a dialer for the test Redis (127.0.0.1:6379 unless
// DVCWATCH_TEST_REDIS says otherwise); it skips the test if that is "off" and
// fails it if Redis does not answer.
func realRedis(t *testing.T) dialer {
	t.Helper()
	addr := os.Getenv(envRedis)
	switch addr {
	case "off":
		t.Skip(envRedis + "=off: skipping a test that needs Redis")
	case "":
		addr = "127.0.0.1:6379"
	}
	dial := func() redis.UniversalClient {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := dial().Ping(ctx).Err(); err != nil {
		t.Fatalf("test Redis at %s is unreachable: %v\n%s", addr, err, redisHint)
	}
	return dial
}

// miniRedis returns a dialer for a miniredis in this process, the embedded
// default, with its clock moved forward as the field notes advise.
func miniRedis(t *testing.T) dialer {
	t.Helper()
	mr := miniredis.RunT(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				mr.FastForward(500 * time.Millisecond)
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	return func() redis.UniversalClient {
		c := redis.NewClient(&redis.Options{
			Addr:   mr.Addr(),
			Dialer: func(context.Context, string, string) (net.Conn, error) { return mr.Dial() },
		})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
}

// queue returns a queue name of the test's own and an inspector; the queue is
// deleted at cleanup.
func queue(t *testing.T, dial dialer) (string, *asynq.Inspector) {
	t.Helper()
	name := "dvcwatch-test-" + strings.ToLower(rand.Text()[:10])
	insp := asynq.NewInspectorFromRedisClient(dial())
	t.Cleanup(func() {
		if err := insp.DeleteQueue(name, true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			t.Errorf("delete test queue %s: %v", name, err)
		}
	})
	return name, insp
}

// payload is what the test tasks carry: which tick of which schedule.
type payload struct {
	Schedule string    `json:"schedule"`
	Tick     time.Time `json:"tick"`
	Manual   bool      `json:"manual,omitempty"`
}

// taskFunc builds tasks as package jobs will: type, payload and options.
func taskFunc(queue string) scheduler.TaskFunc {
	return func(s config.Schedule, tick time.Time, manual bool) (*asynq.Task, error) {
		b, err := json.Marshal(payload{Schedule: s.Name, Tick: tick.UTC(), Manual: manual})
		if err != nil {
			return nil, err
		}
		return asynq.NewTask("test:"+string(s.Job), b, asynq.Queue(queue), asynq.MaxRetry(3), asynq.Timeout(time.Minute)), nil
	}
}

// counting counts the conflicts a replica met, to show the task ID at work.
type counting struct {
	scheduler.Enqueuer
	conflicts atomic.Int32
}

func (c *counting) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := c.Enqueuer.EnqueueContext(ctx, task, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		c.conflicts.Add(1)
	}
	return info, err
}

func logger(t *testing.T, replica string) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})).With("replica", replica)
}

// queued returns the pending tasks of queue by schedule and tick, checking that
// each has the task ID of its tick and the options of its task.
func queued(t *testing.T, insp *asynq.Inspector, queue string) map[string]map[time.Time]int {
	t.Helper()
	tasks, err := insp.ListPendingTasks(queue, asynq.PageSize(1000))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatalf("list pending tasks: %v", err)
	}
	out := map[string]map[time.Time]int{}
	for _, ti := range tasks {
		var p payload
		if err := json.Unmarshal(ti.Payload, &p); err != nil {
			t.Fatalf("task %s: %v", ti.ID, err)
		}
		if want := scheduler.TaskID(p.Schedule, p.Tick); ti.ID != want {
			t.Errorf("task of %s at %v has ID %q, want %q", p.Schedule, p.Tick, ti.ID, want)
		}
		if ti.MaxRetry != 3 || ti.Timeout != time.Minute || ti.Retention < time.Hour {
			t.Errorf("task %s: MaxRetry %d, Timeout %v, Retention %v; want the task's 3 and 1m, and at least 1h",
				ti.ID, ti.MaxRetry, ti.Timeout, ti.Retention)
		}
		if out[p.Schedule] == nil {
			out[p.Schedule] = map[time.Time]int{}
		}
		out[p.Schedule][p.Tick]++
	}
	return out
}

// runAll runs the schedulers until ctx is done and fails the test if one fails.
func runAll(t *testing.T, ctx context.Context, ss ...*scheduler.Scheduler) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() {
			if err := s.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	wg.Wait()
}

var replicaSchedules = []config.Schedule{
	{Name: "sync-dvcqg", Cron: "@every 1s", Job: config.JobSync, Connector: "dvcqg", Timezone: "Asia/Ho_Chi_Minh"},
	{Name: "detect", Cron: "@every 2s", Job: config.JobDetect, Timezone: "Asia/Ho_Chi_Minh"},
}

// twoReplicas runs two schedulers, each with its own Redis client, on the same
// Redis and tick store for four to five seconds, and checks that every tick was
// enqueued exactly once; it returns how many conflicts the replicas met.
func twoReplicas(t *testing.T, dial dialer, ticks scheduler.TickStore) (conflicts int) {
	t.Helper()
	q, insp := queue(t, dial)
	var clients []*counting
	var ss []*scheduler.Scheduler
	for _, name := range []string{"a", "b"} {
		c := &counting{Enqueuer: asynq.NewClientFromRedisClient(dial())}
		clients = append(clients, c)
		ss = append(ss, scheduler.New(scheduler.Options{
			Client: c, Ticks: ticks, Schedules: replicaSchedules, Task: taskFunc(q), Logger: logger(t, name),
		}))
	}
	// Stop half-way between two ticks, so that no tick is cut short.
	stop := time.Now().Add(4 * time.Second).Truncate(time.Second).Add(500 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), stop)
	defer cancel()
	runAll(t, ctx, ss...)

	got := queued(t, insp, q)
	for sched, step := range map[string]time.Duration{"sync-dvcqg": time.Second, "detect": 2 * time.Second} {
		var first, last time.Time
		for tick, n := range got[sched] {
			if n != 1 {
				t.Errorf("%s tick %v enqueued %d times, want 1", sched, tick, n)
			}
			if tick.UnixNano()%int64(step) != 0 {
				t.Errorf("%s tick %v is not a multiple of %v since the epoch", sched, tick, step)
			}
			if first.IsZero() || tick.Before(first) {
				first = tick
			}
			if tick.After(last) {
				last = tick
			}
		}
		n := len(got[sched])
		if min := int(4*time.Second/step) - 1; n < min {
			t.Errorf("%s: %d ticks enqueued in 4 s, want at least %d", sched, n, min)
		} else if span := last.Sub(first); int(span/step)+1 != n {
			t.Errorf("%s: %d ticks from %v to %v: some were skipped", sched, n, first, last)
		}
		for _, s := range ss {
			if e := entry(t, s, sched); !e.Prev.Equal(last) {
				t.Errorf("%s: a replica's Prev = %v, want the last tick %v", sched, e.Prev, last)
			}
		}
		if tl, ok := ticks.(*store.DB); ok {
			if rec, _, err := tl.LastTick(context.Background(), sched); err != nil || !rec.Equal(last) {
				t.Errorf("%s: recorded last tick %v (%v), want %v", sched, rec, err, last)
			}
		}
	}
	for _, c := range clients {
		conflicts += int(c.conflicts.Load())
	}
	t.Logf("ticks %v; %d task ID conflicts", got, conflicts)
	return conflicts
}

func entry(t *testing.T, s *scheduler.Scheduler, name string) scheduler.Entry {
	t.Helper()
	for _, e := range s.Entries() {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entry %s", name)
	return scheduler.Entry{}
}

func TestReplicasEnqueueEachTickOnce(t *testing.T) {
	t.Parallel()
	dial := realRedis(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		twoReplicas(t, dial, db)
	})
}

func TestReplicasEnqueueEachTickOnceOnMiniredis(t *testing.T) {
	t.Parallel()
	twoReplicas(t, miniRedis(t), storetest.SQLite(t))
}

// amnesia is a tick store that remembers nothing, so that only the task ID
// stands between two replicas and a double enqueue.
type amnesia struct{}

func (amnesia) LastTick(context.Context, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (amnesia) RecordTick(context.Context, string, time.Time) error { return nil }

func TestTaskIDAloneStopsTheSecondEnqueue(t *testing.T) {
	t.Parallel()
	// Both replicas enqueue every tick; Redis refuses the second of each.
	if n := twoReplicas(t, realRedis(t), amnesia{}); n < 4 {
		t.Errorf("%d conflicts, want one per tick (at least 4)", n)
	}
}

// fixed is a clock stopped at t, for tests of decisions made at start.
func fixed(t time.Time) clock.Clock { return clock.Func(func() time.Time { return t }) }

func TestCatchUpEnqueuesTheLatestMissedTickOnce(t *testing.T) {
	t.Parallel()
	dial := realRedis(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, insp := queue(t, dial)
		now := time.Date(2026, 3, 2, 8, 43, 20, 0, hcm)
		missed := time.Date(2026, 3, 2, 8, 40, 0, 0, hcm)
		schedules := []config.Schedule{
			{Name: "detect", Cron: "*/10 * * * *", Job: config.JobDetect, Timezone: "Asia/Ho_Chi_Minh"},
			{Name: "sync-onestop", Cron: "*/10 * * * *", Job: config.JobSync, Connector: "onestop", Timezone: "Asia/Ho_Chi_Minh"},
		}
		// detect last ran at 08:10: 08:20, 08:30 and 08:40 were missed.
		// sync-onestop never ran.
		if err := db.RecordTick(ctx, "detect", missed.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Two replicas starting at the same moment.
		var ss []*scheduler.Scheduler
		for _, name := range []string{"a", "b"} {
			ss = append(ss, scheduler.New(scheduler.Options{
				Client: asynq.NewClientFromRedisClient(dial()), Ticks: db, Schedules: schedules,
				Task: taskFunc(q), Clock: fixed(now), Logger: logger(t, name),
			}))
		}
		runCtx, cancel := context.WithCancel(ctx)
		go func() {
			defer cancel()
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if entry(t, ss[0], "detect").Prev.Equal(missed) && entry(t, ss[1], "detect").Prev.Equal(missed) {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Error("the replicas did not catch up within 10 s")
		}()
		runAll(t, runCtx, ss...)

		got := queued(t, insp, q)
		if len(got["detect"]) != 1 || got["detect"][missed.UTC()] != 1 {
			t.Errorf("detect: enqueued %v, want only the tick %v, once", got["detect"], missed.UTC())
		}
		if len(got["sync-onestop"]) != 0 {
			t.Errorf("sync-onestop never ran, so nothing is caught up; enqueued %v", got["sync-onestop"])
		}
		for _, name := range []string{"detect", "sync-onestop"} {
			if last, ok, err := db.LastTick(ctx, name); err != nil || !ok || !last.Equal(missed) {
				t.Errorf("%s: last tick %v, %v, %v; want %v", name, last, ok, err, missed)
			}
		}
	})
}

func TestPausedSchedulesEnqueueNothing(t *testing.T) {
	t.Parallel()
	dial := realRedis(t)
	db := storetest.SQLite(t)
	ctx := context.Background()
	q, insp := queue(t, dial)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := db.RecordTick(ctx, "sync-paused", old); err != nil {
		t.Fatal(err)
	}
	schedules := []config.Schedule{
		{Name: "sync-paused", Cron: "@every 1s", Job: config.JobSync, Connector: "dvcqg", Paused: true},
		{Name: "detect", Cron: "@every 1s", Job: config.JobDetect},
	}
	s := scheduler.New(scheduler.Options{
		Client: asynq.NewClientFromRedisClient(dial()), Ticks: db, Schedules: schedules, Task: taskFunc(q), Logger: logger(t, "a"),
	})
	runCtx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	defer cancel()
	runAll(t, runCtx, s)

	got := queued(t, insp, q)
	if n := len(got["sync-paused"]); n != 0 {
		t.Errorf("paused schedule: %d tasks enqueued, want none", n)
	}
	if n := len(got["detect"]); n < 1 {
		t.Errorf("the schedule beside it: no task enqueued; the test proves nothing")
	}
	if last, _, _ := db.LastTick(ctx, "sync-paused"); !last.Equal(old) {
		t.Errorf("paused schedule: last tick moved from %v to %v", old, last)
	}
	if e := entry(t, s, "sync-paused"); !e.Paused || e.Next.IsZero() || !e.Prev.IsZero() {
		t.Errorf("paused entry = %+v: want Paused, a Next and no Prev", e)
	}
}

func TestRunRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bad := scheduler.New(scheduler.Options{
		Client: &counting{}, Ticks: amnesia{}, Task: taskFunc("q"),
		Schedules: []config.Schedule{{Name: "typo", Cron: "0 8 * *", Job: config.JobDetect}},
	})
	if err := bad.Run(ctx); err == nil || !strings.Contains(err.Error(), "schedule typo") {
		t.Errorf("invalid spec: Run = %v, want an error naming the schedule", err)
	}
	if e := bad.Entries()[0]; !e.Next.IsZero() {
		t.Errorf("invalid spec: Next = %v", e.Next)
	}
	tooOften := scheduler.New(scheduler.Options{
		Client: &counting{}, Ticks: amnesia{}, Task: taskFunc("q"), MinInterval: time.Minute,
		Schedules: []config.Schedule{{Name: "busy", Cron: "@every 5s", Job: config.JobDetect}},
	})
	if err := tooOften.Run(ctx); err == nil || !strings.Contains(err.Error(), `schedule busy: cron expression "CRON_TZ=Asia/Ho_Chi_Minh @every 5s" fires every 5s, more often than scheduler.min_interval (1m) allows`) {
		t.Errorf("below the minimum: Run = %v, want an error naming the schedule and the minimum", err)
	}
	unbuildable := scheduler.New(scheduler.Options{
		Client: &counting{}, Ticks: amnesia{},
		Schedules: []config.Schedule{{Name: "weekly", Cron: "@weekly", Job: "mystery"}},
		Task: func(s config.Schedule, _ time.Time, _ bool) (*asynq.Task, error) {
			return nil, errors.New("unknown job " + string(s.Job))
		},
	})
	if err := unbuildable.Run(ctx); err == nil || !strings.Contains(err.Error(), "schedule weekly: build task: unknown job mystery") {
		t.Errorf("unbuildable task: Run = %v", err)
	}
	if err := scheduler.New(scheduler.Options{}).Run(ctx); err == nil {
		t.Error("no client, store or task: Run = nil")
	}
}
