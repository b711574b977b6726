package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/notify"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/outage"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
)

// concurrency is how many jobs (syncs, detection, summaries) one replica
// runs at once: they are I/O bound, and leases keep two passes of one kind
// apart. Emails have workers of their own, notify.delivery_workers.
const concurrency = 4

// Built-in schedules, added when the configuration has no schedule of their job.
const (
	// DigestSchedule runs the office's daily summary at notify.digest_cron.
	DigestSchedule = "notify.digest"
	// DispatchSchedule re-enqueues undelivered notifications every minute, so
	// that a Redis that lost its data loses no email.
	DispatchSchedule = "notify.dispatch"
	// ReportSchedule mails the monthly results at notify.report_cron.
	ReportSchedule = "notify.report"
)

// RunOptions adjust Run for tests.
type RunOptions struct {
	// DeliverRetryDelay replaces jobs.DeliverRetryDelay.
	DeliverRetryDelay func(n int) time.Duration
	// Sender replaces the SMTP sender built from the configuration.
	Sender notify.Sender
	// DelayedTaskCheckInterval replaces asynq's 5 s between looks for retries due.
	DelayedTaskCheckInterval time.Duration
	// AdminListener serves the admin HTTP server instead of admin.listen
	// (tests listen on port 0 and pass it).
	AdminListener net.Listener
	// OnJobRun is called after every job run is recorded (the demo prints it).
	OnJobRun func(dvcwatch.JobRun)
	// OutageProbe replaces OutageProbe, the cadence of the pings that tell
	// when a lost database or Redis is back.
	OutageProbe time.Duration
}

// OutageProbe is how often a serving replica pings the database and Redis, to
// log once when a lost one is back.
const OutageProbe = 5 * time.Second

// Run runs the worker and the scheduler until ctx ends, then shuts down within
// the configured shutdown timeout: no new task is taken, running ones get that
// long to finish and are handed back to the queue otherwise (handlers are
// idempotent, so a task run twice does no harm).
func Run(ctx context.Context, svc *Services) error {
	return RunWith(ctx, svc, RunOptions{})
}

// RunWith is Run with options. The services must have been built WithRedis.
func RunWith(ctx context.Context, svc *Services, opts RunOptions) error {
	cfg, log := svc.Config, svc.Logger
	rdb, client := svc.Redis, svc.Queue
	if rdb == nil {
		return errors.New("worker: services built without a queue (worker.WithRedis)")
	}
	probe := opts.OutageProbe
	if probe <= 0 {
		probe = OutageProbe
	}
	// From here on a lost Redis or database is two lines, not one per
	// attempt of every client. go-redis has only a process-wide logger: the
	// last replica started in a process gets its lines.
	redis.SetLogger(outage.RedisLogger{Log: log})
	octx, stopOutages := context.WithCancel(ctx)
	defer stopOutages()
	go svc.Outages.Run(octx, probe)
	sender := opts.Sender
	if sender == nil {
		s, err := email.New(cfg.SMTP)
		if err != nil {
			return err
		}
		// Once the queues have stopped (RunWith returns after them): QUIT on
		// the connections kept for the next email.
		defer s.Close()
		sender = s
	}
	var runs jobs.RunRecorder = svc.DB
	if opts.OnJobRun != nil {
		runs = notifyingRuns{svc.DB, opts.OnJobRun}
	}
	// An accepted email's mark-sent outlives its task (cut off by its
	// timeout or by shutdown) but not the process: records ends once the
	// queues have shut down and the deliverer has drained.
	records, stopRecords := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRecords()
	deliverer := &notify.Deliverer{
		Store: svc.DB, Sender: sender, Logger: log, Records: records,
		ClaimStale: notify.ClaimStale(cfg.SMTP.Conversation()),
	}
	handlers := &jobs.Handlers{
		Syncer: svc, Reconciler: svc, Detector: svc, Runs: runs, Health: svc.Health, Logger: log,
		Notifier: notify.Outbox{Dispatcher: svc.Notify, Deliverer: deliverer},
	}
	mux := asynq.NewServeMux()
	mux.Use(svc.JobMetrics())
	handlers.Register(mux)

	// Two servers, each with its own workers: the jobs' (which also serve
	// deliveries left in jobs.Queue by an older replica) and the emails'.
	// A slow mail server holds only the latter.
	server := func(queue string, workers int) *asynq.Server {
		return asynq.NewServerFromRedisClient(rdb.Client, serverConfig(svc, opts, queue, workers))
	}
	srv := server(jobs.Queue, concurrency)
	mail := server(jobs.DeliveryQueue, cfg.Notify.DeliveryWorkers)
	// Every worker of both servers may hold a connection, and the
	// scheduler, the dispatch at start and the admin server one each.
	svc.DB.KeepIdle(concurrency + cfg.Notify.DeliveryWorkers + 3)
	// PBKDF2 takes a moment: done before the first permanent failure needs
	// it, that failure stops its connector before the next tick starts.
	go svc.Health.Warm()
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := mail.Start(mux); err != nil {
		srv.Shutdown()
		return fmt.Errorf("start email worker: %w", err)
	}
	// Both servers stop taking tasks, then get shutdown_timeout together for
	// those running; the deliverer gets a few seconds more to record the
	// outcome of the deliveries it was cut off from, then the process stops
	// trying.
	stop := func() {
		srv.Stop()
		mail.Stop()
	}
	shutdown := func() {
		var wg sync.WaitGroup
		wg.Go(srv.Shutdown)
		wg.Go(mail.Shutdown)
		wg.Wait()
		if !deliverer.Drain(recordGrace) {
			log.Warn("stopping with emails whose outcome is not recorded yet; each is retried once its claim is stale", "claim_stale", deliverer.ClaimStale)
		}
		stopRecords()
	}

	// Hand the queue every undelivered email at once: after a crash, or with a
	// Redis that lost its data (the embedded one always does), the outbox is
	// the record; tasks still queued make this a no-op (same task id).
	if n, err := svc.Notify.Dispatch(ctx); err != nil {
		log.Warn("re-enqueue undelivered emails; the dispatcher schedule will retry", "err", err)
	} else if n > 0 {
		log.Info("re-enqueued undelivered emails", "count", n)
	}
	schedules := Schedules(cfg)
	sched := scheduler.New(scheduler.Options{
		Client: client, Ticks: svc.DB, Overrides: svc.DB, Schedules: schedules, Task: jobs.ScheduledTask, Logger: log,
		MinInterval: cfg.Scheduler.MinInterval,
	})
	web, err := startAdmin(svc, rdb, client, sched, opts.AdminListener)
	if err != nil {
		stop()
		shutdown()
		return err
	}

	// Shutting down within shutdown_timeout, in this order: the scheduler
	// stops enqueueing (ctx ended, or a member failed); asynq takes no new
	// task from then on and hands back those still running after
	// ShutdownTimeout; the admin server finishes its requests meanwhile,
	// within the same bound.
	g, gctx := errgroup.WithContext(ctx)
	schedDone, asynqStopped := make(chan struct{}), make(chan struct{})
	g.Go(func() error {
		defer close(schedDone)
		if err := sched.Run(gctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("scheduler: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-schedDone
		stop()
		close(asynqStopped)
		shutdown()
		return nil
	})
	g.Go(func() error {
		<-asynqStopped
		web.shutdown(cfg.ShutdownTimeout)
		return nil
	})
	log.Info("worker started", "schedules", len(schedules), "connectors", len(cfg.Connectors), "admin", web.addr())
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("worker stopped")
	return nil
}

// recordGrace is how long a stopping worker still waits, after its queues
// shut down, for the deliveries they abandoned to record their outcome.
const recordGrace = 5 * time.Second

// serverConfig configures the asynq server of one queue.
func serverConfig(svc *Services, opts RunOptions, queue string, workers int) asynq.Config {
	cfg, log := svc.Config, svc.Logger
	deliverRetry := opts.DeliverRetryDelay
	if deliverRetry == nil {
		deliverRetry = jobs.DeliverRetryDelay
	}
	return asynq.Config{
		Concurrency:              workers,
		Queues:                   map[string]int{queue: 1},
		DelayedTaskCheckInterval: opts.DelayedTaskCheckInterval,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		Logger:                   asynqLogger{log},
		// A portal that asks us to slow down is busy, not failing: such a task
		// is retried after the portal's own Retry-After without using up its
		// retries.
		IsFailure: func(err error) bool { return !errors.Is(err, connectors.ErrRateLimited) },
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if t.Type() == jobs.TypeDeliver {
				return deliverRetry(n)
			}
			if d := connectors.RetryAfter(err); d > 0 {
				return d
			}
			return asynq.DefaultRetryDelayFunc(n, err, t)
		},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			recordFailure(ctx, svc.DB, log, t, err)
		}),
	}
}

// recordFailure logs a failed attempt and, when it is the last one (the task
// is archived), keeps it in SQL for administrators beyond the queue's own
// retention.
func recordFailure(ctx context.Context, db *store.DB, log *slog.Logger, t *asynq.Task, err error) {
	id, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	final := retried >= maxRetry || errors.Is(err, asynq.SkipRetry)
	log.Error("task failed", "type", t.Type(), "task", id, "retry", retried, "max_retry", maxRetry, "archived", final, "err", err)
	if !final {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// The cause is found now, from the live error, whose chain says more
	// than the text kept beside it.
	f := dvcwatch.FailedTask{TaskID: id, Queue: queue, Type: t.Type(), Payload: string(t.Payload()), Error: err.Error(),
		Cause: failure.Of(err), Retried: retried, FailedAt: time.Now()}
	if rerr := db.RecordFailedTask(rctx, f); rerr != nil {
		log.Error("record failed task", "task", id, "err", rerr)
	}
}

// notifyingRuns records job runs and then tells OnJobRun.
type notifyingRuns struct {
	db    *store.DB
	after func(dvcwatch.JobRun)
}

func (n notifyingRuns) RecordJobRun(ctx context.Context, r dvcwatch.JobRun) (int64, error) {
	id, err := n.db.RecordJobRun(ctx, r)
	r.ID = id
	n.after(r)
	return id, err
}

// Schedules returns the configured schedules plus the built-in ones whose job
// no configured schedule runs: the office's summary at notify.digest_cron,
// the monthly results at notify.report_cron and the dispatcher every minute.
func Schedules(cfg *config.Config) []config.Schedule {
	out := append([]config.Schedule(nil), cfg.Schedules...)
	has := map[config.Job]bool{}
	for _, s := range cfg.Schedules {
		has[s.Job] = true
	}
	if !has[config.JobDigest] && cfg.Notify.DigestCron != "" {
		spec := cfg.Notify.DigestSpec()
		out = append(out, config.Schedule{Name: DigestSchedule, Cron: spec, Job: config.JobDigest, Timezone: config.CronZone(spec)})
	}
	if !has[config.JobReport] && cfg.Notify.ReportCron != "" {
		spec := cfg.Notify.ReportSpec()
		out = append(out, config.Schedule{Name: ReportSchedule, Cron: spec, Job: config.JobReport, Timezone: config.CronZone(spec)})
	}
	if !has[config.JobNotify] {
		out = append(out, config.Schedule{Name: DispatchSchedule, Cron: "@every 1m", Job: config.JobNotify, Timezone: config.DefaultTimezone})
	}
	return out
}

// asynqLogger routes asynq's own log lines into slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
