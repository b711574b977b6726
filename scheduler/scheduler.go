// Package scheduler turns the configured cron schedules into asynq tasks, each
// tick enqueued exactly once however many replicas run it, and the latest tick
// missed while no replica ran caught up once at start. The tasks themselves
// are built by a function the caller passes (jobs.ScheduledTask), so it knows
// no task type.
//
// asynq's own Scheduler and PeriodicTaskManager are not used: they fire on every
// replica that runs them (two replicas, two enqueues per tick), cannot give each
// tick a task ID of its own, and never catch up a tick missed while down. This
// is a small loop instead: robfig/cron's parser computes the ticks (CRON_TZ is
// honoured), asynq.Client enqueues them.
//
// Exactly once rests on two guards. Each tick is enqueued with the task ID
// "<schedule>@<tick in UTC, RFC 3339>", derived from the tick's scheduled
// instant, never from the time a replica woke up, and retained after it
// completes for at least the gap to the schedule's next tick (an hour at
// least): a replica enqueueing the same tick gets asynq.ErrTaskIDConflict,
// which means another replica did it. And the store keeps each schedule's last
// tick as a high-water mark, read before and written after every enqueue, so a
// replica that wakes late, or starts after a tick was enqueued, skips it
// without asking Redis.
//
// Operators change schedules through the admin API: pause, resume, a new
// cron expression. The change is stored (OverrideStore), wins over the
// configuration file, and every replica's loop re-reads it every
// Options.Reload, so it takes effect without a restart and survives one. A
// resumed schedule is not caught up: the ticks it skipped while paused were
// skipped on purpose. RunNow enqueues a schedule's task at once, under a task
// ID of its own that no tick uses.
//
// "@every D" schedules tick at the multiples of D since the Unix epoch, not D
// after the process started as robfig/cron's ConstantDelaySchedule would, so
// that every replica computes the same instants.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/store"
)

// Enqueuer puts a task on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// TickStore keeps the last tick of each schedule where every replica sees it;
// *store.DB is one. RecordTick must never move a schedule's tick backwards.
type TickStore interface {
	LastTick(ctx context.Context, schedule string) (tick time.Time, ok bool, err error)
	RecordTick(ctx context.Context, schedule string, tick time.Time) error
}

// OverrideStore keeps operators' changes to the schedules; *store.DB is one.
type OverrideStore interface {
	ScheduleOverrides(ctx context.Context) (map[string]store.ScheduleOverride, error)
}

// TaskFunc builds the task of one tick of s, tick being the scheduled instant in
// the schedule's zone: its type, payload and options (queue, retries,
// timeout), which the scheduler keeps. Only the task ID and
// the retention are set by the scheduler and override the task's own.
// manual says an operator asked for the run (RunNow), tick then being the
// time they did; the task says so in its payload, so that its handler can
// tell a run by hand from a tick.
type TaskFunc func(s config.Schedule, tick time.Time, manual bool) (*asynq.Task, error)

// Options are what a Scheduler is built from.
type Options struct {
	Client    Enqueuer
	Ticks     TickStore
	Schedules []config.Schedule
	Task      TaskFunc
	// Overrides, when set, are read at start and every Reload (default 10 s).
	Overrides OverrideStore
	Reload    time.Duration
	// Clock tells the time the ticks are computed from (nil: the wall
	// clock). Waits between ticks use real timers, re-checked at least
	// every minute.
	Clock  clock.Clock
	Logger *slog.Logger // defaults to slog.Default()
	// MinInterval is scheduler.min_interval: a schedule, configured or
	// changed by an operator, that fires more often is refused (the
	// configuration's by Run, an operator's change is not put in force);
	// zero refuses none.
	MinInterval time.Duration
}

// DefaultReload is how often the loop re-reads the overrides.
const DefaultReload = 10 * time.Second

// Entry describes one schedule, for the admin API.
type Entry struct {
	Name       string
	Job        config.Job
	Connector  string
	Spec       string    // the cron expression in force, with its CRON_TZ
	Configured string    // the configuration file's expression, with its CRON_TZ
	Timezone   string    // the zone of an expression set without CRON_TZ
	Next       time.Time // the next scheduled tick (skipped if paused); zero if the spec is invalid or never fires
	Prev       time.Time // the last tick this scheduler enqueued or found enqueued; zero if none
	Paused     bool
	// UpdatedBy and UpdatedAt tell who last changed the schedule through
	// the admin API, and when; empty if it is as configured.
	UpdatedBy string
	UpdatedAt time.Time
}

// ErrUnknownSchedule is returned for a schedule name no entry has.
var ErrUnknownSchedule = errors.New("unknown schedule")

// Tuning of the loop; variables so that tests can shorten them.
var (
	// maxSleep bounds every wait, so that a wall clock that jumps (NTP, a
	// resumed VM) is noticed within a minute.
	maxSleep = time.Minute
	// callTimeout bounds each call to Redis or the store.
	callTimeout = 10 * time.Second
	// firstRetry and maxRetry bound the backoff between enqueue attempts of one
	// tick; attempts go on until they succeed or the next tick supersedes it.
	firstRetry = time.Second
	maxRetry   = time.Minute
	// minRetention keeps a tick's task ID taken for at least this long.
	minRetention = time.Hour
)

// Scheduler enqueues the ticks of a set of schedules. Entries is safe to call
// while Run runs.
type Scheduler struct {
	client    Enqueuer
	ticks     TickStore
	overrides OverrideStore
	reload    time.Duration
	task      TaskFunc
	now       func() time.Time
	log       *slog.Logger
	errs      error         // invalid specs, reported by Run
	refresh   chan struct{} // wakes Run to re-read the overrides at once
	minEvery  time.Duration // Options.MinInterval

	mu      sync.Mutex // guards the fields of entries that Run writes, and running
	entries []*entry
	running bool
}

// entry is one schedule and its progress. Only Run's goroutine writes the
// fields below sched, and only under Scheduler.mu, so it reads them freely.
type entry struct {
	sched      config.Schedule // Paused as in force (the override's, if any)
	configured config.Schedule // as the configuration file says
	spec       string
	cron       cron.Schedule // nil if spec is invalid
	// override is the operator's change in force, if any.
	override store.ScheduleOverride
	// refused is the last stored expression not put in force, logged once.
	refused string

	started bool      // next is valid
	next    time.Time // the next tick to wait for
	prev    time.Time // the last tick enqueued or found enqueued
	// pending is a due tick not enqueued yet, retried at retryAt until it is
	// or the next tick supersedes it.
	pending time.Time
	retryAt time.Time
	attempt int
}

// New returns a Scheduler for opts.Schedules; a spec that does not parse is
// reported by Run.
func New(opts Options) *Scheduler {
	s := &Scheduler{client: opts.Client, ticks: opts.Ticks, overrides: opts.Overrides, reload: opts.Reload,
		task: opts.Task, now: clock.OrWall(opts.Clock).Now, log: opts.Logger, refresh: make(chan struct{}, 1),
		minEvery: opts.MinInterval}
	if s.reload <= 0 {
		s.reload = DefaultReload
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	var errs []error
	for _, sc := range opts.Schedules {
		if sc.Timezone == "" && config.CronZone(sc.Cron) == "" {
			sc.Timezone = config.DefaultTimezone // robfig/cron would use the host's zone
		}
		e := &entry{sched: sc, configured: sc, spec: sc.Spec()}
		c, err := s.parse(e.spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", sc.Name, err))
		}
		e.cron = c
		s.entries = append(s.entries, e)
	}
	s.errs = errors.Join(errs...)
	return s
}

// parse is Parse, refusing a spec that fires more often than MinInterval.
func (s *Scheduler) parse(spec string) (cron.Schedule, error) {
	c, err := Parse(spec)
	if err != nil || s.minEvery <= 0 {
		return c, err
	}
	if err := config.CheckInterval(spec, s.minEvery); err != nil {
		return nil, err
	}
	return c, nil
}

// TaskID is the asynq task ID of the tick of schedule at tick: the same on every
// replica, whatever zone tick is in.
func TaskID(schedule string, tick time.Time) string {
	return schedule + "@" + tick.UTC().Format(time.RFC3339)
}

// retention keeps the task ID of tick taken until the schedule's next tick at
// least, so that a replica catching up or waking late still sees the conflict.
func retention(c cron.Schedule, tick time.Time) time.Duration {
	r := minRetention
	if n := c.Next(tick); !n.IsZero() && n.Sub(tick) > r {
		r = n.Sub(tick)
	}
	return r
}

// Entries lists the schedules in the order given, paused ones included.
func (s *Scheduler) Entries() []Entry {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.entries))
	for i, e := range s.entries {
		out[i] = Entry{Name: e.sched.Name, Job: e.sched.Job, Connector: e.sched.Connector, Spec: e.spec,
			Configured: e.configured.Spec(), Timezone: zoneOf(e.configured), Prev: e.prev, Paused: e.sched.Paused,
			UpdatedBy: e.override.UpdatedBy, UpdatedAt: e.override.UpdatedAt}
		switch {
		case e.started:
			out[i].Next = e.next
		case e.cron != nil:
			out[i].Next = e.cron.Next(now)
		}
	}
	return out
}

// Run enqueues the ticks of the schedules until ctx is done, then returns nil.
// It first catches up the latest tick each schedule missed while no replica
// ran (see catchUp). Redis and store errors are logged and retried, never
// returned; Run fails at once only if a spec is invalid or a task cannot be
// built.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.errs != nil {
		return s.errs
	}
	if s.client == nil || s.ticks == nil || s.task == nil {
		return errors.New("scheduler: Options.Client, Ticks and Task are required")
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("scheduler: Run called twice")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	now := s.now()
	// A job that cannot build its task is a configuration error: say so at
	// start rather than at every tick.
	var errs []error
	for _, e := range s.entries {
		if next := e.cron.Next(now); !e.sched.Paused && !next.IsZero() {
			if _, err := s.task(e.sched, next, false); err != nil {
				errs = append(errs, fmt.Errorf("schedule %s: build task: %w", e.sched.Name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	s.applyOverrides(ctx, now, false)
	s.start(ctx, now)
	timer := time.NewTimer(maxSleep)
	defer timer.Stop()
	reloaded := s.now()
	for ctx.Err() == nil {
		if s.overrides != nil && s.now().Sub(reloaded) >= s.reload {
			s.applyOverrides(ctx, s.now(), true)
			reloaded = s.now()
		}
		wake := s.step(ctx, s.now())
		if s.overrides != nil {
			wake = minTime(wake, reloaded.Add(s.reload))
		}
		d := min(max(wake.Sub(s.now()), 0), maxSleep)
		timer.Reset(d)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-s.refresh:
			reloaded = time.Time{} // re-read at the top of the loop
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Refresh makes a running loop re-read the overrides now, e.g. right after
// the admin API stored one; other replicas see it within Options.Reload.
func (s *Scheduler) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

// applyOverrides reads the operators' changes and puts them in force: a new
// expression takes effect from its next tick after now; a paused schedule
// drops its pending tick; a resumed one waits for its next tick (what it
// skipped while paused is not caught up). running says the loop has started
// (the entries' next ticks are set). A store error keeps what is in force.
func (s *Scheduler) applyOverrides(ctx context.Context, now time.Time, running bool) {
	if s.overrides == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	all, err := s.overrides.ScheduleOverrides(cctx)
	cancel()
	if err != nil {
		s.log.Warn("scheduler: cannot read the schedule overrides; keeping those in force", "err", err)
		return
	}
	for _, e := range s.entries {
		o := all[e.sched.Name]
		want := e.configured
		if o.Cron != "" {
			want.Cron, want.Timezone = o.Cron, zoneOf(e.configured)
		}
		if o.Paused != nil {
			want.Paused = *o.Paused
		}
		spec, c := want.Spec(), e.cron
		if spec != e.spec {
			parsed, err := s.parse(spec)
			if err != nil {
				// The API validates before storing; a stored expression that
				// does not parse here (another version?), or fires more
				// often than this replica's min_interval allows, leaves the
				// old one, and is logged once.
				if e.refused != spec {
					s.log.Error("scheduler: stored cron expression refused; keeping the one in force",
						"schedule", e.sched.Name, "cron", spec, "err", err)
				}
				e.refused = spec
				spec, want.Cron = e.spec, e.sched.Cron
			} else {
				c = parsed
			}
		}
		changed := spec != e.spec || want.Paused != e.sched.Paused
		s.mu.Lock()
		e.override = o
		if changed {
			s.log.Info("scheduler: schedule changed", "schedule", e.sched.Name, "cron", spec, "paused", want.Paused,
				"by", o.UpdatedBy)
			e.sched.Cron, e.sched.Paused, e.spec, e.cron = want.Cron, want.Paused, spec, c
			if running {
				e.next = c.Next(now)
				e.pending, e.retryAt, e.attempt = time.Time{}, time.Time{}, 0
			}
		}
		s.mu.Unlock()
	}
}

// RunNow enqueues the task of schedule name at once, whatever its cron
// expression and even if it is paused, under the task ID
// "<schedule>@manual:<now>", and returns that ID. The task is built as a
// manual one (see TaskFunc).
func (s *Scheduler) RunNow(ctx context.Context, name string) (string, error) {
	var sched config.Schedule
	found := false
	s.mu.Lock()
	for _, e := range s.entries {
		if e.sched.Name == name {
			sched, found = e.sched, true
		}
	}
	s.mu.Unlock()
	if !found {
		return "", fmt.Errorf("schedule %q: %w", name, ErrUnknownSchedule)
	}
	now := s.now()
	task, err := s.task(sched, now, true)
	if err != nil {
		return "", fmt.Errorf("schedule %s: build task: %w", name, err)
	}
	id := name + "@manual:" + now.UTC().Format(time.RFC3339Nano)
	if _, err := s.client.EnqueueContext(ctx, task, asynq.TaskID(id), asynq.Retention(minRetention)); err != nil {
		return "", fmt.Errorf("schedule %s: enqueue: %w", name, err)
	}
	s.log.Info("scheduler: run now", "schedule", name, "task_id", id, "type", task.Type())
	return id, nil
}

// start sets each schedule's first tick to wait for and decides its catch-up:
// when the store's last tick is before the schedule's latest tick P at or
// before now, P (only P, never the ticks before it) becomes pending, so it is
// enqueued by the first step, under its own task ID, once across replicas
// starting together. A schedule the store has no tick for has never run: it is
// not caught up, but P is recorded, so that ticks missed from now on are.
// Paused schedules are neither caught up nor recorded.
func (s *Scheduler) start(ctx context.Context, now time.Time) {
	for _, e := range s.entries {
		var pending, prev time.Time
		p := Prev(e.cron, now)
		if !e.sched.Paused && !p.IsZero() {
			pending, prev = s.catchUp(ctx, e, p, now)
		}
		s.mu.Lock()
		e.started, e.next, e.pending, e.prev = true, e.cron.Next(now), pending, prev
		e.retryAt, e.attempt = time.Time{}, 0
		s.mu.Unlock()
	}
}

// catchUp returns the tick to enqueue for e at start, if any, and the last tick
// known to be enqueued.
func (s *Scheduler) catchUp(ctx context.Context, e *entry, p, now time.Time) (pending, prev time.Time) {
	log := s.log.With("schedule", e.sched.Name)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	last, ok, err := s.ticks.LastTick(cctx, e.sched.Name)
	cancel()
	switch {
	case err != nil:
		log.Error("scheduler: cannot read the last tick; not catching up", "tick", p, "err", err)
		return time.Time{}, time.Time{}
	case !ok:
		log.Info("scheduler: first start of the schedule; not catching up", "tick", p)
		s.record(ctx, e, p)
		return time.Time{}, time.Time{}
	case last.Before(p):
		log.Info("scheduler: catching up the latest missed tick", "tick", p, "last_tick", last)
		return p, last
	}
	if n := e.cron.Next(now); !n.IsZero() && last.After(n) {
		log.Warn("scheduler: the recorded last tick is in the future; check the replicas' clocks", "last_tick", last)
	}
	return time.Time{}, last
}

// step enqueues what is due at now: for each schedule whose next tick has
// come, its latest tick at or before now (a loop that woke late skips the
// ticks in between, as a restart would), then any pending tick whose retry
// time has come. It returns when to call it again.
func (s *Scheduler) step(ctx context.Context, now time.Time) time.Time {
	var wake time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	for _, e := range s.entries {
		if !e.next.IsZero() && !e.next.After(now) {
			tick := Prev(e.cron, now)
			if tick.Before(e.next) {
				tick = e.next
			}
			if !e.sched.Paused && !e.pending.IsZero() {
				s.log.Warn("scheduler: tick superseded by the next one before it could be enqueued",
					"schedule", e.sched.Name, "tick", e.pending, "next_tick", tick)
			}
			s.mu.Lock()
			e.next = e.cron.Next(now)
			if !e.sched.Paused {
				e.pending, e.retryAt, e.attempt = tick, time.Time{}, 0
			}
			s.mu.Unlock()
		}
		if !e.pending.IsZero() && !e.retryAt.After(now) {
			s.fire(ctx, e, now)
		}
		earliest(e.next)
		if !e.pending.IsZero() {
			earliest(e.retryAt)
		}
	}
	if wake.IsZero() {
		wake = now.Add(maxSleep)
	}
	return wake
}

// fire makes one attempt at enqueueing e's pending tick.
func (s *Scheduler) fire(ctx context.Context, e *entry, now time.Time) {
	tick, name := e.pending, e.sched.Name
	id := TaskID(name, tick)
	log := s.log.With("schedule", name, "tick", tick, "task_id", id)

	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	last, ok, err := s.ticks.LastTick(cctx, name)
	cancel()
	switch {
	case err != nil:
		// The task ID still guards against a second enqueue.
		log.Warn("scheduler: cannot read the last tick; enqueueing anyway", "err", err)
	case ok && !last.Before(tick):
		log.Debug("scheduler: tick already enqueued by another replica", "last_tick", last)
		s.done(e, tick)
		return
	}

	task, err := s.task(e.sched, tick, false)
	if err != nil {
		log.Error("scheduler: cannot build the task; tick dropped", "err", err)
		s.done(e, e.prev)
		return
	}
	cctx, cancel = context.WithTimeout(ctx, callTimeout)
	_, err = s.client.EnqueueContext(cctx, task, asynq.TaskID(id), asynq.Retention(retention(e.cron, tick)))
	cancel()
	switch {
	case err == nil:
		log.Info("scheduler: enqueued", "type", task.Type())
	case errors.Is(err, asynq.ErrTaskIDConflict):
		log.Debug("scheduler: tick already enqueued by another replica")
	case errors.Is(err, asynq.ErrDuplicateTask):
		log.Info("scheduler: an identical task is still queued (the task's Unique option)", "type", task.Type())
	default:
		if ctx.Err() != nil {
			return // shutting down: the next start catches the tick up
		}
		wait := min(firstRetry<<min(e.attempt, 16), maxRetry)
		log.Warn("scheduler: enqueue failed; retrying", "attempt", e.attempt+1, "retry_in", wait, "err", err)
		s.mu.Lock()
		e.attempt++
		e.retryAt = now.Add(wait)
		s.mu.Unlock()
		return
	}
	// Recorded even while shutting down: the task is on the queue.
	s.record(context.WithoutCancel(ctx), e, tick)
	s.done(e, tick)
}

// record writes tick as e's last tick; a failure is logged only, since the
// task ID still guards the tick and the next record supersedes this one.
func (s *Scheduler) record(ctx context.Context, e *entry, tick time.Time) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.ticks.RecordTick(ctx, e.sched.Name, tick); err != nil {
		s.log.Warn("scheduler: cannot record the tick", "schedule", e.sched.Name, "tick", tick, "err", err)
	}
}

// done clears e's pending tick, prev being the last tick known enqueued.
func (s *Scheduler) done(e *entry, prev time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.pending, e.retryAt, e.attempt = time.Time{}, time.Time{}, 0
	if prev.After(e.prev) {
		e.prev = prev
	}
}
