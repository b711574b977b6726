package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/notify"
)

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
	// Report writes the results of month (YYYY-MM) to the monitors and the
	// office; month "" is the month before at's.
	Report(ctx context.Context, month string, at time.Time) (map[string]int, error)
}

// Notifier relays and sends the outbox.
type Notifier interface {
	// Dispatch enqueues undelivered notifications and returns how many.
	Dispatch(ctx context.Context) (int, error)
	// Deliver sends one; final marks the last automatic attempt. An error
	// wrapping notify.ErrUndeliverable is not retried.
	Deliver(ctx context.Context, id int64, final bool) error
}

// ConnectorHealth keeps a stopped connector's scheduled runs from running
// and records how each sync ended; *health.Tracker is one.
type ConnectorHealth interface {
	// Gate returns nil when a run of connector may go ahead, else an error
	// wrapping dvcwatch.ErrConnectorStopped that says why not; a run by hand
	// (manual) always may.
	Gate(ctx context.Context, connector string, manual bool) error
	// GateReconcile is Gate for a reconciliation of mirror, which neither
	// it nor its source of truth may be stopped for.
	GateReconcile(ctx context.Context, mirror string, manual bool) error
	// Record keeps how a sync of connector ended (err nil: it succeeded).
	Record(ctx context.Context, connector string, err error)
}

// How long a run by hand waits for another run's lease, and how often it
// tries meanwhile.
const (
	manualWait  = time.Minute
	manualRetry = time.Second
)

// Handlers serves dvcwatch's task types.
type Handlers struct {
	Syncer     Syncer
	Reconciler Reconciler
	Detector   Detector
	Notifier   Notifier
	Runs       RunRecorder
	// Health gates syncs and reconciliations and records syncs' outcomes;
	// nil runs every task and records nothing of the connectors.
	Health ConnectorHealth
	Logger *slog.Logger
	// Clock stamps the job runs; nil: the wall clock.
	Clock clock.Clock
}

// Register adds the handlers to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.Handle(TypeSync, handler(h, config.JobSync, h.sync))
	mux.Handle(TypeReconcile, handler(h, config.JobReconcile, h.reconcile))
	mux.Handle(TypeDetect, handler(h, config.JobDetect, h.detect))
	mux.Handle(TypeSummary, handler(h, config.JobDigest, h.summarize))
	mux.Handle(TypeReport, handler(h, config.JobReport, h.report))
	mux.Handle(TypeDispatch, handler(h, config.JobNotify, h.dispatch))
	// A delivery's runs are not added to job_runs: the outbox row itself
	// keeps the attempts, the last error and the outcome.
	mux.Handle(TypeDeliver, handler(h, "", h.deliver))
}

// handler serves one task type: it decodes and checks the payload (a bad one
// is archived at once), runs work on it, records the run as job's (none if
// job is empty), and turns the outcome into what asynq should do: nothing
// for a skipped run, archive at once for a permanent error, retry otherwise.
func handler[P payload](h *Handlers, job config.Job, work func(context.Context, P) (map[string]int, error)) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := decode[P](t.Type(), t.Payload())
		if err != nil {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		started := h.now()
		counts, err := work(ctx, p)
		// A run by hand that finds another run holding the lease waits its
		// turn: the operator asked for this run, and "skipped" would leave
		// them guessing (a scheduled tick may hold the lease for a moment).
		for deadline := time.Now().Add(manualWait); p.origin().Manual && errors.Is(err, ingest.ErrBusy) && time.Now().Before(deadline); {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(manualRetry):
			}
			counts, err = work(ctx, p)
		}
		run := dvcwatch.JobRun{Job: string(job), Schedule: p.origin().Schedule, StartedAt: started,
			Status: dvcwatch.RunSucceeded, Counts: counts}
		run.TaskID, _ = asynq.GetTaskID(ctx)
		switch {
		case errors.Is(err, ingest.ErrBusy): // the lease of a sync or a detection pass
			// The running pass will read what this tick would have: nothing is lost.
			run.Status, run.Error, err = dvcwatch.RunSkipped, err.Error(), nil
		case errors.Is(err, dvcwatch.ErrConnectorStopped), errors.Is(err, dvcwatch.ErrNeverSynced):
			// Failing again every tick would tell the operator nothing new;
			// the skipped run says why, and the health says since when.
			run.Status, run.Error, err = dvcwatch.RunSkipped, err.Error(), nil
		case errors.Is(err, connectors.ErrPermanent):
			run.Status, run.Error = dvcwatch.RunFailed, err.Error()
			err = fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		case err != nil:
			run.Status, run.Error = dvcwatch.RunFailed, err.Error()
		}
		if job != "" {
			run.FinishedAt = h.now()
			h.record(ctx, run)
		}
		return err
	}
}

// record keeps run with a context of its own: a cancelled task is still a
// run to keep.
func (h *Handlers) record(ctx context.Context, run dvcwatch.JobRun) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := h.Runs.RecordJobRun(rctx, run); err != nil {
		h.logger().Error("record job run", "job", run.Job, "schedule", run.Schedule, "task", run.TaskID, "err", err)
	}
}

// sync runs one pass of a connector. Its health is read and written inside
// the pass's lease, so that a tick that starts while a permanent failure is
// being recorded is refused (or finds the lease busy), never fails again.
func (h *Handlers) sync(ctx context.Context, p SyncPayload) (map[string]int, error) {
	opts := ingest.Options{Since: p.Since, Holder: holder(ctx), Logger: h.logger()}
	if h.Health != nil {
		opts.Gate = func(ctx context.Context) error { return h.Health.Gate(ctx, p.Connector, p.Manual) }
		opts.Done = func(ctx context.Context, err error) { h.Health.Record(ctx, p.Connector, err) }
	}
	res, err := h.Syncer.Sync(ctx, p.Connector, opts)
	return map[string]int{
		"batches": res.Batches, "fetched": res.Fetched, "inserted": res.Inserted, "updated": res.Updated,
		"unchanged": res.Unchanged, "stale": res.Stale, "events": res.Events, "skipped": res.SkippedTotal(),
	}, err
}

// reconcile compares a mirror with its source of truth. It is not run while
// either is stopped: a copy no longer refreshed would make every dossier
// changed since look missing or different.
func (h *Handlers) reconcile(ctx context.Context, p ReconcilePayload) (map[string]int, error) {
	if h.Health != nil {
		if err := h.Health.GateReconcile(ctx, p.Connector, p.Manual); err != nil {
			return nil, err
		}
	}
	res, err := h.Reconciler.Reconcile(ctx, p.Connector)
	return map[string]int{"received": res.Received, "missing": res.Missing, "mismatched": res.Mismatched, "resolved": res.Resolved}, err
}

func (h *Handlers) detect(ctx context.Context, _ DetectPayload) (map[string]int, error) {
	return h.Detector.Detect(ctx, holder(ctx))
}

func (h *Handlers) summarize(ctx context.Context, _ SummaryPayload) (map[string]int, error) {
	return h.Detector.Summarize(ctx)
}

// report writes a month's results; a tick's month is the one before the
// tick, so that a retry after midnight still reports the same month.
func (h *Handlers) report(ctx context.Context, p ReportPayload) (map[string]int, error) {
	at := p.Tick
	if at.IsZero() {
		at = h.now()
	}
	return h.Detector.Report(ctx, p.Month, at)
}

func (h *Handlers) dispatch(ctx context.Context, _ DispatchPayload) (map[string]int, error) {
	n, err := h.Notifier.Dispatch(ctx)
	return map[string]int{"enqueued": n}, err
}

func (h *Handlers) deliver(ctx context.Context, p DeliverPayload) (map[string]int, error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	final := ok && retried >= maxRetry
	err := h.Notifier.Deliver(ctx, p.Notification, final)
	if errors.Is(err, notify.ErrUndeliverable) {
		return nil, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return nil, err
}

// holder names the running task as the holder of a lease, so that a busy
// lease tells which task has it.
func holder(ctx context.Context) string {
	id, _ := asynq.GetTaskID(ctx)
	return "task " + id
}

func (h *Handlers) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handlers) now() time.Time { return clock.OrWall(h.Clock).Now() }
