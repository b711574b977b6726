// Package jobs defines dvcwatch's asynq task types, their payloads and their
// handlers. It declares the small interfaces it needs (a Syncer, a
// Reconciler, a run recorder) and never imports a concrete connector or the
// store: the worker wires real ones in.
//
// Every handler honours ctx, is idempotent (a task handed back at shutdown or
// retried after a crash may run twice), and returns an error wrapping
// asynq.SkipRetry for input that no retry can fix, so that the task is
// archived at once for an administrator to see.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/notify"
)

// Task types.
const (
	TypeSync      = "sync:connector"
	TypeReconcile = "reconcile:connector"
	TypeDetect    = "detect:run"      // one detection pass
	TypeDispatch  = "notify:dispatch" // re-enqueue undelivered outbox rows
	TypeSummary   = "notify:summary"  // the office's daily summary
	TypeDeliver   = "notify:deliver"  // send one outbox row; task id = "notification:<row id>"
)

// Queue is where dvcwatch's tasks wait; one queue keeps ordering simple, and
// the lease in ingest keeps syncs of one connector apart.
const Queue = "dvcwatch"

// taskTimeout bounds one task; a sync that needs longer resumes from its last
// stored batch on the retry.
const taskTimeout = 30 * time.Minute

// Retention keeps a completed task visible in the queue (the admin UI's
// "completed" list) for a day; a tick's task keeps the scheduler's own. A
// delivery's task keeps its id taken meanwhile, so an email sent but not
// recorded (the database refused MarkSent three times; the task completes,
// see notify.Deliverer) is sent again a day later, not at the next dispatch.
const Retention = 24 * time.Hour

// Payload says what a task works on and which schedule tick (if any) made it.
type Payload struct {
	Connector    string    `json:"connector,omitempty"`
	Notification int64     `json:"notification,omitempty"` // the outbox row a deliver task sends
	Schedule     string    `json:"schedule,omitempty"`
	Tick         time.Time `json:"tick,omitzero"`
	Since        time.Time `json:"since,omitzero"` // a backfill's start
}

// NewSyncTask makes a task that syncs one connector.
func NewSyncTask(p Payload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeSync, p, opts)
}

// NewReconcileTask makes a task that reconciles a mirror connector with its
// source of truth.
func NewReconcileTask(p Payload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeReconcile, p, opts)
}

// NewDetectTask makes a task that runs one detection pass.
func NewDetectTask(p Payload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeDetect, p, opts)
}

// NewDispatchTask makes a task that re-enqueues undelivered notifications.
func NewDispatchTask(p Payload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeDispatch, p, opts)
}

// NewSummaryTask makes a task that writes the office's daily summary.
func NewSummaryTask(p Payload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeSummary, p, opts)
}

// DeliverMaxRetry is how many times a delivery is retried (with DeliverRetryDelay)
// before its task is archived for an administrator: about four hours of a
// mail server being down.
const DeliverMaxRetry = 10

// DeliverTaskID is the task id of a notification's delivery: at most one such
// task exists in the queue at a time, however often it is enqueued.
func DeliverTaskID(id int64) string { return "notification:" + strconv.FormatInt(id, 10) }

// NewDeliverTask makes the task that sends outbox row id.
func NewDeliverTask(id int64) (*asynq.Task, error) {
	return newTask(TypeDeliver, Payload{Notification: id}, []asynq.Option{
		asynq.TaskID(DeliverTaskID(id)), asynq.MaxRetry(DeliverMaxRetry), asynq.Timeout(2 * time.Minute),
	})
}

// DeliverRetryDelay doubles from 30 seconds to at most an hour.
func DeliverRetryDelay(n int) time.Duration {
	d := 30 * time.Second << min(n, 7)
	return min(d, time.Hour)
}

// Enqueuer returns a function that enqueues a notification's delivery and
// treats an existing task of the same id as done: it is queued already.
func Enqueuer(c *asynq.Client) func(ctx context.Context, id int64) error {
	return func(ctx context.Context, id int64) error {
		t, err := NewDeliverTask(id)
		if err != nil {
			return err
		}
		_, err = c.EnqueueContext(ctx, t)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
		return err
	}
}

// Requeuer returns a function that puts a failed task back on the queue from
// its SQL record, with its own task ID and its type's options: what an
// administrator's retry does once the queue's archive no longer holds it.
func Requeuer(c *asynq.Client) func(ctx context.Context, f dvcwatch.FailedTask) error {
	return func(ctx context.Context, f dvcwatch.FailedTask) error {
		var p Payload
		if err := json.Unmarshal([]byte(f.Payload), &p); err != nil {
			return fmt.Errorf("task %s: stored payload: %w", f.TaskID, err)
		}
		var t *asynq.Task
		var err error
		if f.Type == TypeDeliver {
			t, err = NewDeliverTask(p.Notification)
		} else {
			t, err = newTask(f.Type, p, nil)
		}
		if err != nil {
			return err
		}
		_, err = c.EnqueueContext(ctx, t, asynq.TaskID(f.TaskID))
		return err
	}
}

func newTask(typ string, p Payload, opts []asynq.Option) (*asynq.Task, error) {
	if needsConnector(typ) && p.Connector == "" {
		return nil, fmt.Errorf("%s task: no connector", typ)
	}
	if typ == TypeDeliver && p.Notification <= 0 {
		return nil, fmt.Errorf("%s task: no notification", typ)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("%s task: %w", typ, err)
	}
	base := []asynq.Option{asynq.Queue(Queue), asynq.Timeout(taskTimeout), asynq.MaxRetry(10), asynq.Retention(Retention)}
	return asynq.NewTask(typ, b, append(base, opts...)...), nil
}

func needsConnector(typ string) bool { return typ == TypeSync || typ == TypeReconcile }

// ScheduledTask builds the task a schedule's tick enqueues; the scheduler
// calls it and knows nothing of task types.
func ScheduledTask(s config.Schedule, tick time.Time) (*asynq.Task, error) {
	p := Payload{Connector: s.Connector, Schedule: s.Name, Tick: tick}
	switch s.Job {
	case config.JobSync:
		return NewSyncTask(p)
	case config.JobReconcile:
		return NewReconcileTask(p)
	case config.JobDetect:
		return NewDetectTask(p)
	case config.JobNotify:
		return NewDispatchTask(p)
	case config.JobDigest:
		return NewSummaryTask(p)
	default:
		return nil, fmt.Errorf("schedule %s: job %q has no task yet", s.Name, s.Job)
	}
}

// Syncer runs one sync pass of a connector.
type Syncer interface {
	Sync(ctx context.Context, connector string, opts ingest.Options) (ingest.Result, error)
}

// Reconciler compares a mirror connector's copy with its source of truth.
type Reconciler interface {
	Reconcile(ctx context.Context, mirror string) (dvcwatch.ReconcileResult, error)
}

// RunRecorder keeps every job run in SQL.
type RunRecorder interface {
	RecordJobRun(ctx context.Context, r dvcwatch.JobRun) (int64, error)
}

// Detector runs detection passes and the office's summary; each returns the
// counts to record with the run.
type Detector interface {
	Detect(ctx context.Context, holder string) (map[string]int, error)
	Summarize(ctx context.Context) (map[string]int, error)
}

// Notifier relays and sends the outbox.
type Notifier interface {
	// Dispatch enqueues undelivered notifications and returns how many.
	Dispatch(ctx context.Context) (int, error)
	// Deliver sends one; final marks the last automatic attempt. An error
	// wrapping notify.ErrUndeliverable is not retried.
	Deliver(ctx context.Context, id int64, final bool) error
}

// Handlers serves dvcwatch's task types.
type Handlers struct {
	Syncer     Syncer
	Reconciler Reconciler
	Detector   Detector
	Notifier   Notifier
	Runs       RunRecorder
	Logger     *slog.Logger
	Now        func() time.Time
}

// Register adds the handlers to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeSync, h.handleSync)
	mux.HandleFunc(TypeReconcile, h.handleReconcile)
	mux.HandleFunc(TypeDetect, h.handleDetect)
	mux.HandleFunc(TypeSummary, h.handleSummary)
	mux.HandleFunc(TypeDispatch, h.handleDispatch)
	mux.HandleFunc(TypeDeliver, h.handleDeliver)
}

func (h *Handlers) handleDetect(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	taskID, _ := asynq.GetTaskID(ctx)
	started := h.now()
	counts, err := h.Detector.Detect(ctx, "task "+taskID)
	return h.finish(ctx, "detect", p, taskID, started, counts, err)
}

func (h *Handlers) handleSummary(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	taskID, _ := asynq.GetTaskID(ctx)
	started := h.now()
	counts, err := h.Detector.Summarize(ctx)
	return h.finish(ctx, "digest", p, taskID, started, counts, err)
}

func (h *Handlers) handleDispatch(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	taskID, _ := asynq.GetTaskID(ctx)
	started := h.now()
	n, err := h.Notifier.Dispatch(ctx)
	return h.finish(ctx, "notify", p, taskID, started, map[string]int{"enqueued": n}, err)
}

// handleDeliver sends one email. Its runs are not added to job_runs: the
// outbox row itself keeps the attempts, the last error and the outcome.
func (h *Handlers) handleDeliver(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	final := ok && retried >= maxRetry
	err = h.Notifier.Deliver(ctx, p.Notification, final)
	if errors.Is(err, notify.ErrUndeliverable) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

func (h *Handlers) handleSync(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	taskID, _ := asynq.GetTaskID(ctx)
	started := h.now()
	res, err := h.Syncer.Sync(ctx, p.Connector, ingest.Options{
		Since: p.Since, Holder: "task " + taskID, Logger: h.logger(),
	})
	counts := map[string]int{
		"batches": res.Batches, "fetched": res.Fetched, "inserted": res.Inserted, "updated": res.Updated,
		"unchanged": res.Unchanged, "stale": res.Stale, "events": res.Events, "skipped": res.SkippedTotal(),
	}
	return h.finish(ctx, "sync", p, taskID, started, counts, err)
}

func (h *Handlers) handleReconcile(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	taskID, _ := asynq.GetTaskID(ctx)
	started := h.now()
	res, err := h.Reconciler.Reconcile(ctx, p.Connector)
	counts := map[string]int{"received": res.Received, "missing": res.Missing, "mismatched": res.Mismatched, "resolved": res.Resolved}
	return h.finish(ctx, "reconcile", p, taskID, started, counts, err)
}

// finish records the run and turns the outcome into what asynq should do:
// nothing for a skipped run, archive at once for a permanent error, retry
// otherwise.
func (h *Handlers) finish(ctx context.Context, job string, p Payload, taskID string, started time.Time, counts map[string]int, err error) error {
	run := dvcwatch.JobRun{
		Job: job, Schedule: p.Schedule, TaskID: taskID, StartedAt: started, Status: dvcwatch.RunSucceeded, Counts: counts,
	}
	switch {
	case errors.Is(err, ingest.ErrBusy): // the lease of a sync or a detection pass
		// The running pass will read what this tick would have: nothing is lost.
		run.Status, run.Error, err = dvcwatch.RunSkipped, err.Error(), nil
	case errors.Is(err, connectors.ErrPermanent):
		run.Status, run.Error = dvcwatch.RunFailed, err.Error()
		err = fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case err != nil:
		run.Status, run.Error = dvcwatch.RunFailed, err.Error()
	}
	run.FinishedAt = h.now()
	// Record with a context of its own: a cancelled task is still a run to keep.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, rerr := h.Runs.RecordJobRun(rctx, run); rerr != nil {
		h.logger().Error("record job run", "job", job, "connector", p.Connector, "err", rerr)
	}
	return err
}

func decode(t *asynq.Task) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("%s task: bad payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if needsConnector(t.Type()) && p.Connector == "" {
		return p, fmt.Errorf("%s task: payload names no connector: %w", t.Type(), asynq.SkipRetry)
	}
	if t.Type() == TypeDeliver && p.Notification <= 0 {
		return p, fmt.Errorf("%s task: payload names no notification: %w", t.Type(), asynq.SkipRetry)
	}
	return p, nil
}

func (h *Handlers) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
