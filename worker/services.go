// Package worker builds everything dvcwatch runs from a config.Config — the
// store, the portal connectors, the job handlers, the asynq server and the
// scheduler — and runs it.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/dvcqg"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/metrics"
	"github.com/dvcwatch/dvcwatch/notify"
	"github.com/dvcwatch/dvcwatch/outage"
	"github.com/dvcwatch/dvcwatch/report"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

// Connector is a configured portal account: dossiers are pulled through it and
// looked up one by one.
type Connector interface {
	connectors.Puller
	connectors.Looker
}

// NewConnector builds the client for one configured connector.
func NewConnector(cfg config.Connector, log *slog.Logger) (Connector, error) {
	opt := httpx.WithLogger(log) // the clients name their connector in every line
	switch cfg.Kind {
	case config.KindDVCQG:
		return dvcqg.New(cfg, opt)
	case config.KindOneStop:
		return onestop.New(cfg, opt)
	default:
		return nil, fmt.Errorf("connector %s: unknown kind %q", cfg.Name, cfg.Kind)
	}
}

// Services are the long-lived parts every command and the service share: the
// migrated store, one client per connector, the directory of people, the
// notify service and the detector, and (for a worker) the queue.
type Services struct {
	Config     *config.Config
	DB         *store.DB
	Connectors map[string]Connector
	Directory  *directory.Directory
	Notify     *notify.Service
	Detector   *detect.Detector
	// Health keeps the connectors' health (a connector stopped after a
	// permanent failure skips its scheduled runs) and tells the
	// administrators when one stops or recovers.
	Health *health.Tracker
	Logger *slog.Logger
	// Redis and Queue are the job queue, when the services were built with
	// WithRedis; commands run by hand have none, and their new emails wait
	// in the outbox for a worker's dispatcher.
	Redis *Redis
	Queue *asynq.Client
	// Clock is the time jobs judge dossiers by: the wall clock unless the
	// demo runs everything on the simulator's.
	Clock clock.Clock
	// Outages watches the database and Redis while Run serves: a lost one is
	// a log line when it goes and one when it is back, not one per attempt.
	Outages *outage.Monitor

	jobMetrics *metrics.JobMetrics // times this replica's tasks, for MetricsHandler
}

// Option adjusts the services New builds.
type Option func(*Services)

// WithRedis gives the services the job queue on r: new emails are enqueued
// at once, and Run can serve the queue.
func WithRedis(r *Redis) Option {
	return func(s *Services) { s.Redis, s.Queue = r, asynq.NewClientFromRedisClient(r.Client) }
}

// WithClock makes c the time the jobs judge dossiers by (the demo's
// simulated time).
func WithClock(c clock.Clock) Option { return func(s *Services) { s.Clock = c } }

// Open opens and migrates the store and builds the services on it.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*Services, error) {
	db, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN.Reveal())
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	s, err := New(cfg, db, log, opts...)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// New builds the services on a store that is already open and migrated.
func New(cfg *config.Config, db *store.DB, log *slog.Logger, opts ...Option) (*Services, error) {
	s := &Services{Config: cfg, DB: db, Connectors: map[string]Connector{}, Logger: log, Clock: clock.Wall{},
		jobMetrics: metrics.NewJobMetrics()}
	for _, o := range opts {
		o(s)
	}
	log = s.watchOutages(log)
	var err error
	if s.Directory, err = directory.New(cfg); err != nil {
		return nil, err
	}
	var enqueue func(context.Context, int64) error
	if s.Queue != nil {
		enqueue = jobs.Enqueuer(s.Queue)
	}
	if s.Notify, err = notify.NewService(cfg, s.Directory, NotifyStore(db), enqueue, s.Clock, log); err != nil {
		return nil, err
	}
	if s.Detector, err = detect.New(cfg, DetectStore(db), s.Directory, s.Notify, log); err != nil {
		return nil, err
	}
	// Health is stamped with the wall clock, as job runs are: it tells when
	// things happened to dvcwatch, not where simulated time stood.
	ho := health.Options{Store: HealthStore(db), Config: cfg, Logger: log}
	if s.Queue != nil {
		ho.Send = (&notify.Dispatcher{Store: db, Enqueue: enqueue}).Send
	}
	s.Health = health.New(ho)
	for _, k := range cfg.Connectors {
		c, err := NewConnector(k, log)
		if err != nil {
			return nil, err
		}
		s.Connectors[k.Name] = c
	}
	return s, nil
}

// DetectStore is db as detection uses it: its transactions seen through
// detect's Tx.
func DetectStore(db *store.DB) detect.Store { return detectStore{db} }

type detectStore struct{ *store.DB }

func (s detectStore) InTx(ctx context.Context, fn func(detect.Tx) error) error {
	return detect.TxOf(s.DB.InTx).InTx(ctx, fn)
}

// NotifyStore is db as the notify service uses it: its transactions seen
// through notify's OutboxTx.
func NotifyStore(db *store.DB) notify.Store { return notifyStore{db} }

type notifyStore struct{ *store.DB }

func (s notifyStore) InTx(ctx context.Context, fn func(notify.OutboxTx) error) error {
	return notify.OutboxTxOf(s.DB.InTx)(ctx, fn)
}

// HealthStore is db as connector health uses it: its transactions seen
// through health's Tx.
func HealthStore(db *store.DB) health.Store { return healthStore{db} }

type healthStore struct{ *store.DB }

func (s healthStore) InTx(ctx context.Context, fn func(health.Tx) error) error {
	return health.TxOf(s.DB.InTx)(ctx, fn)
}

// Close releases the queue's client and the store (not the Redis
// connection, which its opener closes).
func (s *Services) Close() error {
	if s.Queue != nil {
		_ = s.Queue.Close()
	}
	return s.DB.Close()
}

// Sync runs one sync pass of the named connector with its configured overlap
// unless opts sets one.
func (s *Services) Sync(ctx context.Context, name string, opts ingest.Options) (ingest.Result, error) {
	c, ok := s.Connectors[name]
	if !ok {
		return ingest.Result{}, fmt.Errorf("sync: unknown connector %q: %w", name, connectors.ErrPermanent)
	}
	if opts.Overlap == 0 {
		opts.Overlap = s.connectorConfig(name).Overlap
	}
	if opts.Logger == nil {
		opts.Logger = s.Logger
	}
	if opts.Clock == nil {
		opts.Clock = s.Clock
	}
	return ingest.Run(ctx, s.DB, name, c, opts)
}

// Reconcile compares the stored copy of the mirror connector (the national
// portal) with its source of truth and records the differences.
func (s *Services) Reconcile(ctx context.Context, mirror string) (dvcwatch.ReconcileResult, error) {
	k := s.connectorConfig(mirror)
	if k.MirrorOf == "" {
		return dvcwatch.ReconcileResult{}, fmt.Errorf("reconcile %s: not a mirror (set mirror_of): %w", mirror, connectors.ErrPermanent)
	}
	return s.DB.Reconcile(ctx, store.ReconcileParams{Truth: k.MirrorOf, Mirror: mirror, Now: s.Clock.Now(), MaxLag: k.MaxLag})
}

// Detect runs one detection pass as of now.
func (s *Services) Detect(ctx context.Context, holder string) (map[string]int, error) {
	res, err := s.Detector.Run(ctx, detect.Options{Holder: holder, Now: s.Clock.Now()})
	return res.Counts(), err
}

// Summarize writes the office's daily summary as of now.
func (s *Services) Summarize(ctx context.Context) (map[string]int, error) {
	n, err := s.Notify.Summarize(ctx, s.Clock.Now())
	return map[string]int{"summaries": n}, err
}

// Report writes the results of month (YYYY-MM; "" is the month before at's,
// in Asia/Ho_Chi_Minh) to every agency's monitors and office.
func (s *Services) Report(ctx context.Context, month string, at time.Time) (map[string]int, error) {
	period, err := report.ParseMonth(month)
	if month == "" {
		local := at.In(sla.Location())
		period, err = report.Month(local.Year(), local.Month()).Previous(), nil
	}
	if err != nil {
		return nil, err
	}
	n, err := s.Notify.Report(ctx, period, s.Clock.Now())
	return map[string]int{"reports": n}, err
}

func (s *Services) connectorConfig(name string) config.Connector {
	for _, k := range s.Config.Connectors {
		if k.Name == name {
			return k
		}
	}
	return config.Connector{}
}

// MetricsHandler serves the Prometheus metrics of this replica: the store's
// and the queue's state read on each scrape, the tasks JobMetrics timed, and
// the Go runtime's and the process's. The admin server mounts it without a
// token: it holds aggregate counts only (see package metrics).
func (s *Services) MetricsHandler(inspector jobs.Inspector) http.Handler {
	names := make([]string, 0, len(s.Config.Connectors))
	for _, k := range s.Config.Connectors {
		names = append(names, k.Name)
	}
	c := metrics.NewCollector(metrics.Options{
		Store: s.DB, Queue: inspector, QueueNames: jobs.Queues(), Connectors: names, Health: s.Health,
		Outbox: s.Notify,
		Clock:  s.Clock,
		Logger: s.Logger,
	})
	return metrics.Handler(metrics.NewRegistry(c, s.jobMetrics), s.Logger)
}

// JobMetrics is the asynq middleware that times every task this replica
// runs, for MetricsHandler to serve.
func (s *Services) JobMetrics() asynq.MiddlewareFunc { return s.jobMetrics.Middleware }
