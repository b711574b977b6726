package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/store"
)

// memOverrides is an OverrideStore in memory.
type memOverrides struct {
	mu  sync.Mutex
	all map[string]store.ScheduleOverride
	err error
}

func (m *memOverrides) ScheduleOverrides(context.Context) (map[string]store.ScheduleOverride, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]store.ScheduleOverride{}
	for k, v := range m.all {
		out[k] = v
	}
	return out, m.err
}

func (m *memOverrides) set(o store.ScheduleOverride) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.all == nil {
		m.all = map[string]store.ScheduleOverride{}
	}
	m.all[o.Schedule] = o
}

func paused(p bool) *bool { return &p }

func TestOverridesPauseResumeAndChangeTheExpression(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ov := &memOverrides{}
	s := b.scheduler(t, every10m("detect"))
	s.overrides = ov
	ctx := context.Background()
	s.applyOverrides(ctx, t0.Add(time.Minute), false)
	s.start(ctx, t0.Add(time.Minute))

	// Paused by an operator before 08:10: that tick and the next are skipped.
	ov.set(store.ScheduleOverride{Schedule: "detect", Paused: paused(true), UpdatedBy: "ops"})
	s.applyOverrides(ctx, t0.Add(5*time.Minute), true)
	if e := s.Entries()[0]; !e.Paused || e.UpdatedBy != "ops" {
		t.Errorf("paused entry = %+v", e)
	}
	s.step(ctx, t0.Add(10*time.Minute))
	s.step(ctx, t0.Add(20*time.Minute))
	wantIDs(t, b.queue)

	// Resumed at 08:25 with a new expression: its next tick is 08:30, and
	// what was skipped while paused is not caught up.
	ov.set(store.ScheduleOverride{Schedule: "detect", Cron: "@every 15m", Paused: paused(false), UpdatedBy: "ops"})
	s.applyOverrides(ctx, t0.Add(25*time.Minute), true)
	e := s.Entries()[0]
	if e.Paused || !strings.Contains(e.Spec, "@every 15m") || !strings.Contains(e.Configured, "@every 10m") {
		t.Errorf("resumed entry = %+v", e)
	}
	if !e.Next.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("next = %v, want 08:30", e.Next)
	}
	s.step(ctx, t0.Add(26*time.Minute))
	wantIDs(t, b.queue)
	s.step(ctx, t0.Add(30*time.Minute))
	wantIDs(t, b.queue, "detect@2026-03-02T01:30:00Z")

	// A store that fails keeps what is in force.
	ov.mu.Lock()
	ov.err = errors.New("database is down")
	ov.mu.Unlock()
	s.applyOverrides(ctx, t0.Add(31*time.Minute), true)
	if e := s.Entries()[0]; !strings.Contains(e.Spec, "@every 15m") {
		t.Errorf("after a store error the entry is %+v", e)
	}
}

func TestAStoredExpressionThatDoesNotParseKeepsTheOneInForce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ov := &memOverrides{}
	ov.set(store.ScheduleOverride{Schedule: "detect", Cron: "*/5 * *", UpdatedBy: "ops"})
	s := b.scheduler(t, every10m("detect"))
	s.overrides = ov
	s.applyOverrides(context.Background(), t0, false)
	if e := s.Entries()[0]; !strings.Contains(e.Spec, "@every 10m") {
		t.Errorf("entry = %+v, want the configured expression kept", e)
	}
}

// TestAStoredExpressionBelowTheMinimumKeepsTheOneInForce: an operator's
// change that fires more often than scheduler.min_interval (stored by an
// older version, or under a lower minimum) is not put in force, and is
// logged once however often the overrides are read.
func TestAStoredExpressionBelowTheMinimumKeepsTheOneInForce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ov := &memOverrides{}
	ov.set(store.ScheduleOverride{Schedule: "detect", Cron: "@every 1s", UpdatedBy: "ops"})
	s := b.scheduler(t, every10m("detect"))
	var log strings.Builder
	s.log = slog.New(slog.NewTextHandler(&log, nil))
	s.overrides, s.minEvery = ov, time.Minute
	for range 3 {
		s.applyOverrides(context.Background(), t0, false)
	}
	if e := s.Entries()[0]; !strings.Contains(e.Spec, "@every 10m") {
		t.Errorf("entry = %+v, want the configured expression kept", e)
	}
	if n := strings.Count(log.String(), "stored cron expression refused"); n != 1 ||
		!strings.Contains(log.String(), "more often than scheduler.min_interval (1m) allows") {
		t.Errorf("logged %d times, want once naming the minimum:\n%s", n, log.String())
	}
	// Put back within the minimum, it applies.
	ov.set(store.ScheduleOverride{Schedule: "detect", Cron: "@every 2m", UpdatedBy: "ops"})
	s.applyOverrides(context.Background(), t0, false)
	if e := s.Entries()[0]; !strings.Contains(e.Spec, "@every 2m") {
		t.Errorf("entry = %+v, want @every 2m in force", e)
	}
}

func TestRunNowEnqueuesUnderItsOwnID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.scheduler(t, every10m("detect"))
	s.now = func() time.Time { return t0.Add(3 * time.Minute) }
	id, err := s.RunNow(context.Background(), "detect")
	if err != nil {
		t.Fatal(err)
	}
	if want := "detect@manual:2026-03-02T01:03:00Z"; id != want {
		t.Errorf("id = %q, want %q", id, want)
	}
	wantIDs(t, b.queue, id)
	// The task is built as a run by hand, which its handler can tell.
	if p := b.queue.payloads[id]; p != "manual 2026-03-02T01:03:00Z" {
		t.Errorf("payload %q, want the task of a manual run", p)
	}
	if _, err := s.RunNow(context.Background(), "nope"); !errors.Is(err, ErrUnknownSchedule) {
		t.Errorf("unknown schedule: err = %v", err)
	}
}
