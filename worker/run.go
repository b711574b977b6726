package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/scheduler"
)

// concurrency is how many tasks one replica runs at once: syncs are I/O bound,
// and the lease keeps two of one connector apart.
const concurrency = 4

// Run runs the worker and the scheduler until ctx ends, then shuts down within
// the configured shutdown timeout: no new task is taken, running ones get that
// long to finish and are handed back to the queue otherwise (handlers are
// idempotent, so a task run twice does no harm).
func Run(ctx context.Context, svc *Services, rdb *Redis) error {
	cfg, log := svc.Config, svc.Logger
	handlers := &jobs.Handlers{Syncer: svc, Reconciler: svc, Runs: svc.DB, Logger: log}
	mux := asynq.NewServeMux()
	handlers.Register(mux)

	srv := asynq.NewServerFromRedisClient(rdb.Client, asynq.Config{
		Concurrency:     concurrency,
		Queues:          map[string]int{jobs.Queue: 1},
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          asynqLogger{log},
		// A portal that asks us to slow down is busy, not failing: such a task
		// is retried after the portal's own Retry-After without using up its
		// retries.
		IsFailure: func(err error) bool { return !errors.Is(err, connectors.ErrRateLimited) },
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if d := connectors.RetryAfter(err); d > 0 {
				return d
			}
			return asynq.DefaultRetryDelayFunc(n, err, t)
		},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			log.Error("task failed", "type", t.Type(), "task", id, "retry", retried, "max_retry", maxRetry, "err", err)
		}),
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	var schedules []config.Schedule
	for _, s := range cfg.Schedules {
		if !jobs.Scheduled(s.Job) {
			log.Warn("schedule not run: this version has no task for its job yet", "schedule", s.Name, "job", s.Job)
			continue
		}
		schedules = append(schedules, s)
	}
	client := asynq.NewClientFromRedisClient(rdb.Client)
	sched := scheduler.New(scheduler.Options{
		Client: client, Ticks: svc.DB, Schedules: schedules, Task: jobs.ScheduledTask, Logger: log,
	})
	schedErr := make(chan error, 1)
	go func() { schedErr <- sched.Run(ctx) }()
	log.Info("worker started", "schedules", len(schedules), "connectors", len(cfg.Connectors))

	var err error
	select {
	case <-ctx.Done():
		err = <-schedErr
	case err = <-schedErr: // the scheduler could not start
	}
	srv.Shutdown()
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("scheduler: %w", err)
	}
	log.Info("worker stopped")
	return nil
}

// asynqLogger routes asynq's own log lines into slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
