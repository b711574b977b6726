package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch/config"
)

// These tests drive start and step with a fake clock, a fake queue and an
// in-memory tick store: the loop's decisions without Redis and without waiting.

// fakeQueue is a queue of task IDs that refuses a taken ID as Redis does.
type fakeQueue struct {
	mu        sync.Mutex
	ids       []string // enqueued, in order
	retention map[string]time.Duration
	payloads  map[string]string
	conflicts int
	fail      int // the next fail attempts fail
}

func (q *fakeQueue) EnqueueContext(_ context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail > 0 {
		q.fail--
		return nil, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	var id string
	var keep time.Duration
	for _, o := range opts {
		switch o.Type() {
		case asynq.TaskIDOpt:
			id = o.Value().(string)
		case asynq.RetentionOpt:
			keep = o.Value().(time.Duration)
		}
	}
	for _, have := range q.ids {
		if have == id {
			q.conflicts++
			return nil, asynq.ErrTaskIDConflict
		}
	}
	q.ids = append(q.ids, id)
	if q.retention == nil {
		q.retention = map[string]time.Duration{}
	}
	q.retention[id] = keep
	if q.payloads == nil {
		q.payloads = map[string]string{}
	}
	q.payloads[id] = string(task.Payload())
	return &asynq.TaskInfo{ID: id, Type: task.Type()}, nil
}

func (q *fakeQueue) enqueued() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.ids...)
}

// memTicks is a TickStore in memory; forget makes it a store that remembers
// nothing, to test the task ID guard alone.
type memTicks struct {
	mu     sync.Mutex
	last   map[string]time.Time
	forget bool
}

func (m *memTicks) LastTick(_ context.Context, s string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.last[s]
	return t, ok && !m.forget, nil
}

func (m *memTicks) RecordTick(_ context.Context, s string, tick time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]time.Time{}
	}
	if tick.After(m.last[s]) {
		m.last[s] = tick
	}
	return nil
}

var ict = time.FixedZone("ICT", 7*3600)

// t0 is 08:00 in Hanoi, a tick of every schedule used here.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, ict)

type bundle struct {
	queue *fakeQueue
	ticks *memTicks
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{queue: &fakeQueue{}, ticks: &memTicks{}}
}

func (b *bundle) scheduler(t *testing.T, schedules ...config.Schedule) *Scheduler {
	t.Helper()
	s := New(Options{
		Client:    b.queue,
		Ticks:     b.ticks,
		Schedules: schedules,
		Task: func(s config.Schedule, tick time.Time, manual bool) (*asynq.Task, error) {
			p := tick.UTC().Format(time.RFC3339)
			if manual {
				p = "manual " + p
			}
			return asynq.NewTask("test:"+string(s.Job), []byte(p)), nil
		},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if s.errs != nil {
		t.Fatal(s.errs)
	}
	return s
}

func wantIDs(t *testing.T, q *fakeQueue, want ...string) {
	t.Helper()
	got := q.enqueued()
	if len(got) != len(want) {
		t.Fatalf("enqueued %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("enqueued %q, want %q", got, want)
		}
	}
}

func every10m(name string) config.Schedule {
	return config.Schedule{Name: name, Cron: "@every 10m", Job: config.JobDetect, Timezone: "Asia/Ho_Chi_Minh"}
}

func TestFirstStartRecordsTheTickWithoutCatchingUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.scheduler(t, every10m("detect"))
	ctx := context.Background()
	s.start(ctx, t0.Add(4*time.Minute))
	if wake := s.step(ctx, t0.Add(4*time.Minute)); !wake.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("wake = %v, want %v", wake, t0.Add(10*time.Minute))
	}
	wantIDs(t, b.queue)
	if last, ok, _ := b.ticks.LastTick(ctx, "detect"); !ok || !last.Equal(t0) {
		t.Errorf("recorded %v, %v; want %v", last, ok, t0)
	}
	s.step(ctx, t0.Add(10*time.Minute))
	wantIDs(t, b.queue, "detect@2026-03-02T01:10:00Z")
}

func TestALateWakeEnqueuesOnlyTheLatestTick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.scheduler(t, every10m("detect"))
	ctx := context.Background()
	s.start(ctx, t0.Add(time.Minute))
	// The process was suspended for 55 minutes: five ticks passed.
	wake := s.step(ctx, t0.Add(56*time.Minute))
	wantIDs(t, b.queue, "detect@2026-03-02T01:50:00Z")
	if !wake.Equal(t0.Add(time.Hour)) {
		t.Errorf("wake = %v, want %v", wake, t0.Add(time.Hour))
	}
	if e := s.Entries()[0]; !e.Prev.Equal(t0.Add(50*time.Minute)) || !e.Next.Equal(t0.Add(time.Hour)) {
		t.Errorf("entry = %+v", e)
	}
}

func TestStartCatchesUpOnlyTheLatestMissedTick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_ = b.ticks.RecordTick(ctx, "detect", t0.Add(-30*time.Minute)) // 08:00, 07:50, 07:40 missed
	now := t0.Add(5 * time.Minute)

	// Two replicas starting together: both see the old tick and want 08:00.
	a, c := b.scheduler(t, every10m("detect")), b.scheduler(t, every10m("detect"))
	a.start(ctx, now)
	c.start(ctx, now)
	a.step(ctx, now)
	c.step(ctx, now)
	// A third replica whose store read failed falls back on the task ID.
	b.ticks.forget = true
	d := b.scheduler(t, every10m("detect"))
	d.start(ctx, now) // "never ran": records, does not catch up
	d.pendingForTest(now, t0)
	d.step(ctx, now)
	b.ticks.forget = false

	wantIDs(t, b.queue, "detect@2026-03-02T01:00:00Z")
	if b.queue.conflicts != 1 {
		t.Errorf("%d conflicts, want 1 (the replica without the store)", b.queue.conflicts)
	}
	if last, _, _ := b.ticks.LastTick(ctx, "detect"); !last.Equal(t0) {
		t.Errorf("last tick %v, want %v", last, t0)
	}
	for _, s := range []*Scheduler{a, c, d} {
		if e := s.Entries()[0]; !e.Prev.Equal(t0) {
			t.Errorf("Prev = %v, want %v", e.Prev, t0)
		}
	}
}

// pendingForTest makes tick pending as a catch-up would.
func (s *Scheduler) pendingForTest(now, tick time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		e.pending, e.retryAt = tick, now
	}
}

func TestUpToDateStoreMeansNoCatchUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_ = b.ticks.RecordTick(ctx, "detect", t0)
	s := b.scheduler(t, every10m("detect"))
	s.start(ctx, t0.Add(5*time.Minute))
	s.step(ctx, t0.Add(5*time.Minute))
	wantIDs(t, b.queue)
	if e := s.Entries()[0]; !e.Prev.Equal(t0) {
		t.Errorf("Prev = %v, want %v (found in the store)", e.Prev, t0)
	}
}

func TestATickAnotherReplicaRecordedIsSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s := b.scheduler(t, every10m("detect"))
	s.start(ctx, t0.Add(-time.Minute))
	_ = b.ticks.RecordTick(ctx, "detect", t0) // another replica was faster
	s.step(ctx, t0)
	wantIDs(t, b.queue)
	if b.queue.conflicts != 0 {
		t.Errorf("Redis was asked although the store knew")
	}
}

func TestEnqueueRetriesWithBackoffUntilTheNextTick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s := b.scheduler(t, every10m("detect"))
	s.start(ctx, t0.Add(-time.Minute))

	b.queue.fail = 2
	steps := []struct {
		at, wake time.Duration
	}{
		{0, time.Second},               // fails, retry in 1 s
		{time.Second, 3 * time.Second}, // fails, retry in 2 s
		{3 * time.Second, 10 * time.Minute},
	}
	for _, st := range steps {
		if wake := s.step(ctx, t0.Add(st.at)); !wake.Equal(t0.Add(st.wake)) {
			t.Fatalf("step at +%v: wake at +%v, want +%v", st.at, wake.Sub(t0), st.wake)
		}
	}
	wantIDs(t, b.queue, "detect@2026-03-02T01:00:00Z")

	// Redis stays down through the 08:10 tick: 08:20 supersedes it.
	b.queue.fail = 1 << 30
	for at := 10 * time.Minute; at < 20*time.Minute; at += 5 * time.Second {
		s.step(ctx, t0.Add(at))
	}
	b.queue.fail = 0
	s.step(ctx, t0.Add(20*time.Minute))
	wantIDs(t, b.queue, "detect@2026-03-02T01:00:00Z", "detect@2026-03-02T01:20:00Z")
	if last, _, _ := b.ticks.LastTick(ctx, "detect"); !last.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("last tick %v", last)
	}
}

func TestPausedScheduleIsNeitherEnqueuedNorRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_ = b.ticks.RecordTick(ctx, "detect", t0.Add(-time.Hour))
	p := every10m("detect")
	p.Paused = true
	s := b.scheduler(t, p)
	s.start(ctx, t0.Add(time.Minute))
	for at := time.Minute; at < time.Hour; at += time.Minute {
		s.step(ctx, t0.Add(at))
	}
	wantIDs(t, b.queue)
	if last, _, _ := b.ticks.LastTick(ctx, "detect"); !last.Equal(t0.Add(-time.Hour)) {
		t.Errorf("paused schedule recorded %v", last)
	}
	if e := s.Entries()[0]; !e.Paused || !e.Next.Equal(t0.Add(time.Hour)) {
		t.Errorf("entry = %+v", e)
	}
}

func TestRetentionCoversTheGapToTheNextTick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	daily := config.Schedule{Name: "digest", Cron: "30 7 * * 1-5", Job: config.JobDigest, Timezone: "Asia/Ho_Chi_Minh"}
	s := b.scheduler(t, every10m("detect"), daily)
	friday := time.Date(2026, 3, 6, 7, 29, 0, 0, ict)
	s.start(ctx, friday)
	s.step(ctx, friday.Add(time.Minute))
	s.step(ctx, friday.Add(10*time.Minute))
	want := map[string]time.Duration{
		"digest@2026-03-06T00:30:00Z": 72 * time.Hour, // Friday to Monday
		"detect@2026-03-06T00:30:00Z": time.Hour,      // at least an hour
	}
	for id, r := range want {
		if got := b.queue.retention[id]; got != r {
			t.Errorf("retention of %s = %v, want %v", id, got, r)
		}
	}
}
