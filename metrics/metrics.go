// Package metrics exposes dvcwatch's Prometheus metrics: a collector that
// reads the store and the queue on every scrape (dossiers by status, sync
// lag, open breaches, the outbox, queue sizes, open failed tasks, the
// connectors' health and the mail server's state), an asynq
// middleware that times every task, and the registry and HTTP handler that
// serve them with the Go and process collectors; the worker wires the real
// store and queue in.
//
// The admin listener serves /metrics without authentication, as Prometheus
// scrapes it: every metric here is an aggregate count, a duration or a task
// type, never a dossier code, a name, an email address or a token, and
// metrics must stay that way. At most four scrapes run at once (more get
// 503), so an anonymous client cannot pile up database queries.
//
// Metrics (gauges unless said otherwise):
//
//	dvcwatch_dossiers{source,status}             stored dossiers; status as dvcwatch.Status.String()
//	dvcwatch_sync_records{connector}             stored dossiers of a configured connector
//	dvcwatch_sync_lag_seconds{connector}         now minus the connector's cursor, the source update
//	                                             time of its newest stored change; none before a cursor
//	dvcwatch_breaches_open{kind}                 unresolved breaches, every kind (0 when none)
//	dvcwatch_notifications{state}                outbox rows: pending, sent, failed
//	dvcwatch_outbox_unreadable                   outbox rows this replica's dispatcher found unreadable
//	                                             (logged once each) and skips, at its last run
//	dvcwatch_queue_tasks{queue,state}            asynq tasks: pending, active, scheduled, retry,
//	                                             archived, completed
//	dvcwatch_failed_tasks_open                   archived tasks no administrator retried or deleted
//	dvcwatch_connector_up{connector}             1 unless the connector's last sync failed (1 before any)
//	dvcwatch_connector_stopped{connector}        1 while the connector is stopped after a permanent
//	                                             failure (its scheduled runs skipped), else 0
//	dvcwatch_connector_last_success_timestamp_seconds{connector}
//	                                             Unix time of the connector's last successful sync;
//	                                             none before its first
//	dvcwatch_connector_last_error_timestamp_seconds{connector}
//	                                             Unix time of its latest failed sync; none before one
//	dvcwatch_connector_consecutive_failures{connector}
//	                                             failed syncs since the last success (0 when ok)
//	dvcwatch_smtp_failing                        1 while the latest delivery attempts all failed with an
//	                                             error worth retrying (see health.SMTP), else 0
//	dvcwatch_scrape_errors_total{part}           counter: reads that failed during a scrape
//	dvcwatch_job_duration_seconds{type,outcome}  histogram: how long task handlers ran
//	dvcwatch_jobs_total{type,outcome}            counter: task runs; outcome succeeded, failed
//	                                             or skipped_retry (see Outcome)
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/store"
)

// DefaultTimeout bounds one scrape's reads of the store and the queue.
const DefaultTimeout = 5 * time.Second

// maxInFlight is how many scrapes the handler serves at once; more get 503.
const maxInFlight = 4

// Store is what the collector reads from the database.
type Store interface {
	DossiersByStatus(ctx context.Context) ([]store.StatusCount, error)
	Cursor(ctx context.Context, source string) (store.Cursor, bool, error)
	OpenBreachCounts(ctx context.Context) (map[dvcwatch.BreachKind]int, error)
	NotificationCounts(ctx context.Context) (map[string]int, error)
	CountOpenFailedTasks(ctx context.Context) (int, error)
}

// Health is the connectors' health and the mail server's state;
// *health.Tracker is one.
type Health interface {
	Connectors(ctx context.Context) ([]health.Status, error)
	SMTP(ctx context.Context) (dvcwatch.SMTPState, error)
}

// Queue is what the collector reads from asynq; *asynq.Inspector is one.
type Queue interface {
	// GetQueueInfo reports a queue nothing was ever enqueued to as
	// asynq.ErrQueueNotFound (jobs.Inspector does).
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// Parts of a scrape, the values of dvcwatch_scrape_errors_total's part label.
const (
	PartDossiers      = "dossiers"
	PartCursors       = "cursors"
	PartBreaches      = "breaches"
	PartNotifications = "notifications"
	PartFailedTasks   = "failed_tasks"
	PartQueue         = "queue"
	PartConnectors    = "connectors"
	PartSMTP          = "smtp"
)

var parts = []string{PartDossiers, PartCursors, PartBreaches, PartNotifications, PartFailedTasks, PartQueue, PartConnectors, PartSMTP}

// Options configure a Collector.
type Options struct {
	Store      Store
	Queue      Queue
	QueueNames []string // the asynq queues to report (jobs.Queues)
	Connectors []string // configured connector names, for the sync metrics
	// Health, when set, gives the connector and mail server gauges.
	Health Health
	// Outbox, when set, gives dvcwatch_outbox_unreadable; *notify.Service
	// is one.
	Outbox interface{ UnreadableOutbox() int }
	// Clock is what sync lag is measured by: the wall clock unless the demo
	// runs on the simulator's (nil: the wall clock).
	Clock clock.Clock
	// Timeout bounds one scrape's reads; DefaultTimeout if zero.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Collector reads dvcwatch's state on every scrape. A part that fails (the
// database down, Redis slow) is left out of that scrape, counted in
// dvcwatch_scrape_errors_total and logged; the other parts are still
// reported.
type Collector struct {
	opts Options
	log  *slog.Logger

	dossiers, syncRecords, syncLag *prometheus.Desc
	breaches, notifications        *prometheus.Desc
	outboxUnreadable               *prometheus.Desc
	queueTasks, failedOpen         *prometheus.Desc
	connectorUp, connectorStopped  *prometheus.Desc
	connectorLastSuccess           *prometheus.Desc
	connectorLastError             *prometheus.Desc
	connectorFailures              *prometheus.Desc
	smtpFailing                    *prometheus.Desc
	scrapeErrors                   *prometheus.CounterVec
}

// NewCollector returns a collector of what opts.Store and opts.Queue hold.
func NewCollector(opts Options) *Collector {
	opts.Clock = clock.OrWall(opts.Clock)
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Collector{
		opts: opts,
		log:  log.With("component", "metrics"),
		dossiers: prometheus.NewDesc("dvcwatch_dossiers",
			"Stored dossiers by source and national status.", []string{"source", "status"}, nil),
		syncRecords: prometheus.NewDesc("dvcwatch_sync_records",
			"Stored dossiers of each configured connector.", []string{"connector"}, nil),
		syncLag: prometheus.NewDesc("dvcwatch_sync_lag_seconds",
			"Now minus the source update time of the newest change stored for the connector (its sync cursor).",
			[]string{"connector"}, nil),
		breaches: prometheus.NewDesc("dvcwatch_breaches_open",
			"Unresolved breaches by kind.", []string{"kind"}, nil),
		notifications: prometheus.NewDesc("dvcwatch_notifications",
			"Outbox notifications by state (pending, sent, failed).", []string{"state"}, nil),
		outboxUnreadable: prometheus.NewDesc("dvcwatch_outbox_unreadable",
			"Outbox rows the dispatcher of this replica found unreadable at its last run, and skips.", nil, nil),
		queueTasks: prometheus.NewDesc("dvcwatch_queue_tasks",
			"Tasks in the asynq queue by state.", []string{"queue", "state"}, nil),
		failedOpen: prometheus.NewDesc("dvcwatch_failed_tasks_open",
			"Archived tasks no administrator has retried or deleted yet.", nil, nil),
		connectorUp: prometheus.NewDesc("dvcwatch_connector_up",
			"1 unless the connector's last sync failed (1 before its first).", []string{"connector"}, nil),
		connectorStopped: prometheus.NewDesc("dvcwatch_connector_stopped",
			"1 while the connector is stopped after a permanent failure: its scheduled runs are skipped until its configuration changes or a run by hand succeeds.",
			[]string{"connector"}, nil),
		// An alert on "no success for N hours" needs the time, not the state:
		// a failing connector that retries every minute is up to the state
		// gauge between two failures.
		connectorLastSuccess: prometheus.NewDesc("dvcwatch_connector_last_success_timestamp_seconds",
			"Unix time of the connector's last successful sync (absent before its first).", []string{"connector"}, nil),
		connectorLastError: prometheus.NewDesc("dvcwatch_connector_last_error_timestamp_seconds",
			"Unix time of the connector's latest failed sync (absent before its first failure).", []string{"connector"}, nil),
		connectorFailures: prometheus.NewDesc("dvcwatch_connector_consecutive_failures",
			"Failed syncs of the connector since its last success.", []string{"connector"}, nil),
		smtpFailing: prometheus.NewDesc("dvcwatch_smtp_failing",
			"1 while the latest delivery attempts all failed with an error worth retrying (the mail server down, refusing to relay).", nil, nil),
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dvcwatch_scrape_errors_total",
			Help: "Reads that failed while collecting dvcwatch metrics, by part; that part is missing from the scrape.",
		}, []string{"part"}),
	}
	for _, p := range parts {
		c.scrapeErrors.WithLabelValues(p) // report 0 before the first error
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dossiers, c.syncRecords, c.syncLag, c.breaches, c.notifications, c.outboxUnreadable,
		c.queueTasks, c.failedOpen, c.connectorUp, c.connectorStopped, c.connectorLastSuccess, c.connectorLastError,
		c.connectorFailures, c.smtpFailing} {
		ch <- d
	}
	c.scrapeErrors.Describe(ch)
}

// Collect implements prometheus.Collector: the store and the queue are read
// side by side, so that one of them hanging until the timeout does not cost
// the other its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { c.collectStore(ctx, ch) })
	wg.Go(func() { c.collectQueue(ctx, ch) })
	wg.Wait()
	c.scrapeErrors.Collect(ch)
}

func (c *Collector) collectStore(ctx context.Context, ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	db := c.opts.Store

	if counts, err := db.DossiersByStatus(ctx); err != nil {
		c.fail(PartDossiers, err)
	} else {
		bySource := map[string]int{}
		for _, s := range counts {
			gauge(c.dossiers, float64(s.N), s.Source, dvcwatch.Status(s.Status).String())
			bySource[s.Source] += s.N
		}
		for _, name := range c.opts.Connectors {
			gauge(c.syncRecords, float64(bySource[name]), name)
		}
	}

	now := c.opts.Clock.Now()
	for _, name := range c.opts.Connectors {
		cur, ok, err := db.Cursor(ctx, name)
		if err != nil {
			c.fail(PartCursors, err)
			break // the same failure for every connector: count and log it once
		}
		if ok && !cur.UpdatedAt.IsZero() {
			gauge(c.syncLag, now.Sub(cur.UpdatedAt).Seconds(), name)
		}
	}

	if open, err := db.OpenBreachCounts(ctx); err != nil {
		c.fail(PartBreaches, err)
	} else {
		kinds := dvcwatch.BreachKinds()
		for _, k := range kinds {
			gauge(c.breaches, float64(open[k]), string(k))
		}
		var extra []dvcwatch.BreachKind // stored by a newer version, say
		for k := range open {
			if !slices.Contains(kinds, k) {
				extra = append(extra, k)
			}
		}
		slices.Sort(extra)
		for _, k := range extra {
			gauge(c.breaches, float64(open[k]), string(k))
		}
	}

	if n, err := db.NotificationCounts(ctx); err != nil {
		c.fail(PartNotifications, err)
	} else {
		for _, state := range []string{"pending", "sent", "failed"} {
			gauge(c.notifications, float64(n[state]), state)
		}
	}
	if c.opts.Outbox != nil {
		gauge(c.outboxUnreadable, float64(c.opts.Outbox.UnreadableOutbox()))
	}

	if n, err := db.CountOpenFailedTasks(ctx); err != nil {
		c.fail(PartFailedTasks, err)
	} else {
		gauge(c.failedOpen, float64(n))
	}
	c.collectHealth(ctx, gauge)
}

// collectHealth reports the connectors' health and the mail server's state.
func (c *Collector) collectHealth(ctx context.Context, gauge func(*prometheus.Desc, float64, ...string)) {
	h := c.opts.Health
	if h == nil {
		return
	}
	bit := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	if cs, err := h.Connectors(ctx); err != nil {
		c.fail(PartConnectors, err)
	} else {
		for _, s := range cs {
			gauge(c.connectorUp, bit(s.State == dvcwatch.ConnectorOK), s.Connector)
			gauge(c.connectorStopped, bit(s.State == dvcwatch.ConnectorStopped), s.Connector)
			gauge(c.connectorFailures, float64(s.Failures), s.Connector)
			if !s.LastSuccess.IsZero() {
				gauge(c.connectorLastSuccess, unixSeconds(s.LastSuccess), s.Connector)
			}
			if !s.LastErrorAt.IsZero() {
				gauge(c.connectorLastError, unixSeconds(s.LastErrorAt), s.Connector)
			}
		}
	}
	if m, err := h.SMTP(ctx); err != nil {
		c.fail(PartSMTP, err)
	} else {
		gauge(c.smtpFailing, bit(m.Failing))
	}
}

// unixSeconds is t as Prometheus timestamps are exposed: seconds since the epoch.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// collectQueue reports the queues' sizes. The Inspector takes no context:
// the calls run aside and are abandoned (they end with the Redis client's
// own timeouts) once the scrape's time is up.
func (c *Collector) collectQueue(ctx context.Context, ch chan<- prometheus.Metric) {
	type result struct {
		infos []*asynq.QueueInfo
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for _, q := range c.opts.QueueNames {
			info, err := c.queueInfo(q)
			if err != nil {
				r.err = fmt.Errorf("queue %s: %w", q, err)
				break
			}
			r.infos = append(r.infos, info)
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if r.err != nil {
		c.fail(PartQueue, r.err)
		return
	}
	for i, info := range r.infos {
		q := c.opts.QueueNames[i]
		for _, s := range []struct {
			state string
			n     int
		}{
			{"pending", info.Pending}, {"active", info.Active}, {"scheduled", info.Scheduled},
			{"retry", info.Retry}, {"archived", info.Archived}, {"completed", info.Completed},
		} {
			ch <- prometheus.MustNewConstMetric(c.queueTasks, prometheus.GaugeValue, float64(s.n), q, s.state)
		}
	}
}

// queueInfo reads a queue's sizes; a queue nothing was ever enqueued to has
// none.
func (c *Collector) queueInfo(q string) (*asynq.QueueInfo, error) {
	info, err := c.opts.Queue.GetQueueInfo(q)
	if err == nil {
		return info, nil
	}
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return &asynq.QueueInfo{}, nil
	}
	return nil, err
}

// fail counts and logs a part that could not be read. The errors come from
// the database and Redis drivers: they name what was read, never a secret.
func (c *Collector) fail(part string, err error) {
	c.scrapeErrors.WithLabelValues(part).Inc()
	c.log.Warn("collect metrics", "part", part, "err", err)
}

// Outcomes of a task run, the values of the outcome label.
const (
	// OutcomeSucceeded: the handler returned nil.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed: the handler returned an error or panicked; asynq
	// retries the task, or archives it after its last retry.
	OutcomeFailed = "failed"
	// OutcomeSkippedRetry: the error wraps asynq.SkipRetry (bad input, a
	// permanent error): asynq archives the task at once, without retrying.
	OutcomeSkippedRetry = "skipped_retry"
)

// Outcome classifies a handler's result.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeSucceeded
	case errors.Is(err, asynq.SkipRetry):
		return OutcomeSkippedRetry
	default:
		return OutcomeFailed
	}
}

// jobBuckets are dvcwatch_job_duration_seconds' upper bounds: from a 10 ms
// delivery to a 30 min sync (the task timeout).
var jobBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800}

// JobMetrics times every task a server runs: register it, and put its
// Middleware on the asynq mux.
type JobMetrics struct {
	duration *prometheus.HistogramVec
	total    *prometheus.CounterVec
	// now measures run time: always the wall clock, never the demo's
	// simulated one; tests replace it.
	now func() time.Time
}

// NewJobMetrics returns the task metrics, empty.
func NewJobMetrics() *JobMetrics {
	return &JobMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dvcwatch_job_duration_seconds",
			Help:    "How long task handlers ran, by task type and outcome (succeeded, failed, skipped_retry).",
			Buckets: jobBuckets,
		}, []string{"type", "outcome"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dvcwatch_jobs_total",
			Help: "Task runs by task type and outcome (succeeded, failed, skipped_retry).",
		}, []string{"type", "outcome"}),
		now: time.Now,
	}
}

// Middleware observes every run of next; its signature is an
// asynq.MiddlewareFunc. The type label is the task's type: only dvcwatch
// enqueues to its queue, so the set stays small.
func (m *JobMetrics) Middleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
		start := m.now()
		panicked := true
		defer func() {
			outcome := Outcome(err)
			if panicked { // asynq recovers it and retries the task
				outcome = OutcomeFailed
			}
			m.duration.WithLabelValues(t.Type(), outcome).Observe(m.now().Sub(start).Seconds())
			m.total.WithLabelValues(t.Type(), outcome).Inc()
		}()
		err = next.ProcessTask(ctx, t)
		panicked = false
		return err
	})
}

// Describe implements prometheus.Collector.
func (m *JobMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.duration.Describe(ch)
	m.total.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *JobMetrics) Collect(ch chan<- prometheus.Metric) {
	m.duration.Collect(ch)
	m.total.Collect(ch)
}

// NewRegistry returns a registry of c, jobs, and the Go runtime and process
// collectors.
func NewRegistry(c *Collector, jobs *JobMetrics) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, jobs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves what g gathers in the Prometheus exposition formats. A
// collector's error does not fail the scrape: the rest is served and the
// error logged.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:            errorLog{log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxInFlight,
	})
}

// errorLog routes promhttp's errors into slog.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) {
	e.l.Error("serve metrics", "component", "metrics", "err", fmt.Sprint(v...))
}
