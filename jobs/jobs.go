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
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/store"
)

// Task types.
const (
	TypeSync      = "sync:connector"
	TypeReconcile = "reconcile:connector"
)

// Queue is where dvcwatch's tasks wait; one queue keeps ordering simple, and
// the lease in ingest keeps syncs of one connector apart.
const Queue = "dvcwatch"

// taskTimeout bounds one task; a sync that needs longer resumes from its last
// stored batch on the retry.
const taskTimeout = 30 * time.Minute

// Payload says what a task works on and which schedule tick (if any) made it.
type Payload struct {
	Connector string    `json:"connector"`
	Schedule  string    `json:"schedule,omitempty"`
	Tick      time.Time `json:"tick,omitzero"`
	Since     time.Time `json:"since,omitzero"` // a backfill's start
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

func newTask(typ string, p Payload, opts []asynq.Option) (*asynq.Task, error) {
	if p.Connector == "" {
		return nil, fmt.Errorf("%s task: no connector", typ)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("%s task: %w", typ, err)
	}
	base := []asynq.Option{asynq.Queue(Queue), asynq.Timeout(taskTimeout), asynq.MaxRetry(10)}
	return asynq.NewTask(typ, b, append(base, opts...)...), nil
}

// Scheduled reports whether a schedule's job has a task type in this version;
// detect, notify and digest come with breach detection.
func Scheduled(j config.Job) bool { return j == config.JobSync || j == config.JobReconcile }

// ScheduledTask builds the task a schedule's tick enqueues; the scheduler
// calls it and knows nothing of task types.
func ScheduledTask(s config.Schedule, tick time.Time) (*asynq.Task, error) {
	p := Payload{Connector: s.Connector, Schedule: s.Name, Tick: tick}
	switch s.Job {
	case config.JobSync:
		return NewSyncTask(p)
	case config.JobReconcile:
		return NewReconcileTask(p)
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
	Reconcile(ctx context.Context, mirror string) (store.ReconcileResult, error)
}

// RunRecorder keeps every job run in SQL.
type RunRecorder interface {
	RecordJobRun(ctx context.Context, r store.JobRun) (int64, error)
}

// Handlers serves dvcwatch's task types.
type Handlers struct {
	Syncer     Syncer
	Reconciler Reconciler
	Runs       RunRecorder
	Logger     *slog.Logger
	Now        func() time.Time
}

// Register adds the handlers to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeSync, h.handleSync)
	mux.HandleFunc(TypeReconcile, h.handleReconcile)
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
	run := store.JobRun{
		Job: job, Schedule: p.Schedule, TaskID: taskID, StartedAt: started, Status: store.RunSucceeded, Counts: counts,
	}
	switch {
	case errors.Is(err, ingest.ErrBusy):
		// The running pass will read what this tick would have: nothing is lost.
		run.Status, run.Error, err = store.RunSkipped, err.Error(), nil
	case errors.Is(err, connectors.ErrPermanent):
		run.Status, run.Error = store.RunFailed, err.Error()
		err = fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case err != nil:
		run.Status, run.Error = store.RunFailed, err.Error()
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
	if p.Connector == "" {
		return p, fmt.Errorf("%s task: payload names no connector: %w", t.Type(), asynq.SkipRetry)
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
