package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/notify"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// NotifyOptions configure a notification benchmark.
type NotifyOptions struct {
	Emails      int
	Redis       string // host:port of a real Redis
	RedisDB     int    // flushed before each measurement
	Concurrency int    // of both asynq servers; the worker's is 4
	Postgres    string // PostgreSQL URL for the outbox; "" skips PostgreSQL
	Dir         string // where SQLite files go; "" skips SQLite
	// ComposeDossiers sizes the store of the composition step (simulated
	// dossiers, a detection pass that leaves its alerts pending, then
	// notify.Service.Notify); 0 skips it.
	ComposeDossiers int
	Seed            int64
	// CPUProfile, if set, receives a CPU profile of this process during
	// each engine's pipeline alone, the engine's name put before the
	// extension (notify.prof: notify.postgres.prof, notify.sqlite.prof).
	CPUProfile string
	Out        io.Writer
}

// NotifyEngine is one outbox database's figures.
type NotifyEngine struct {
	Name         string
	Emails       int
	BaselineTime time.Duration // raw asynq: enqueue N trivial tasks and process them
	SMTPTime     time.Duration // email.Sender alone: N SMTP transactions
	ClaimTime    time.Duration // the outbox alone: N claims and marks sent
	PipelineTime time.Duration // dispatch N outbox rows and deliver them over SMTP
	DispatchTime time.Duration // of PipelineTime, until Dispatch returned (all enqueued)
	Received     int           // messages the SMTP sink accepted during the pipeline
	OutboxTime   time.Duration // AddNotification of the N rows, not counted
	PeakRSSBytes int64
	// The CPU time each timed stage cost in the processes it runs in (see cpuScope).
	BaselineCPU, SMTPCPU, ClaimCPU, PipelineCPU stageCPU
	// How the outbox alone and the pipeline used SQLite's one writer at a
	// time (zero on PostgreSQL).
	ClaimWriter, PipelineWriter store.WriterStats
	// The composition step, when run.
	ComposeDossiers, ComposeBreaches, ComposeAlerts, ComposeEmails int
	ComposeTime                                                    time.Duration
}

// BaselineRate is tasks per second of raw asynq.
func (e NotifyEngine) BaselineRate() float64 { return float64(e.Emails) / e.BaselineTime.Seconds() }

// PipelineRate is emails per second through the pipeline.
func (e NotifyEngine) PipelineRate() float64 { return float64(e.Emails) / e.PipelineTime.Seconds() }

// SlowestStageRate is the rate of the pipeline's slowest stage measured
// alone, at the pipeline's concurrency: raw asynq, email.Sender, or the
// outbox's claim and mark sent.
func (e NotifyEngine) SlowestStageRate() float64 {
	return float64(e.Emails) / max(e.BaselineTime, e.SMTPTime, e.ClaimTime).Seconds()
}

// StagesCPURate is the most emails per second the machine's cores could
// carry if every email costs the CPU it costs in each stage alone, summed:
// a delivery does the three for each email, so once the stages' processes
// keep every core busy, no overlap of the stages goes faster than this.
func (e NotifyEngine) StagesCPURate() float64 {
	perEmail := e.BaselineCPU.PerItem(e.Emails) + e.SMTPCPU.PerItem(e.Emails) + e.ClaimCPU.PerItem(e.Emails)
	if perEmail <= 0 {
		return 0
	}
	return float64(runtime.NumCPU()) / perEmail
}

// benchTaskCheckInterval replaces asynq's default of one second between polls
// of an empty queue in both servers: the raw baseline processes faster than
// one client enqueues, so its workers find the queue empty again and again,
// and a one-second nap would be measured instead of throughput.
const benchTaskCheckInterval = 10 * time.Millisecond

func benchServerConfig(concurrency int) asynq.Config {
	return asynq.Config{
		Concurrency:       concurrency,
		Queues:            map[string]int{jobs.DeliveryQueue: 1},
		TaskCheckInterval: benchTaskCheckInterval,
		ShutdownTimeout:   10 * time.Second,
		LogLevel:          asynq.WarnLevel,
	}
}

// Notify measures the notification pipeline against raw asynq on the same
// Redis: once the baseline, then per outbox database the pipeline (and the
// composition step), and prints the figures.
func Notify(ctx context.Context, o NotifyOptions) ([]NotifyEngine, error) {
	targets, err := engines(o.Postgres, o.Dir)
	if err != nil {
		return nil, err
	}
	w := o.Out
	rdb := redis.NewClient(&redis.Options{Addr: o.Redis, DB: o.RedisDB, PoolSize: 4 * o.Concurrency})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis %s: %w", o.Redis, err)
	}
	sink, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	sink.KeepHeadersOnly() // in this process: thousands of digests kept whole would be measured too

	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return nil, fmt.Errorf("flush redis db %d: %w", o.RedisDB, err)
	}
	fmt.Fprintf(w, "redis %s db %d (flushed before each run); asynq servers of concurrency %d, queue poll interval %s\n",
		o.Redis, o.RedisDB, o.Concurrency, benchTaskCheckInterval)
	fmt.Fprintf(w, "machine: %s\n", loadAverage())
	var admin *sql.DB // reads which PostgreSQL backends serve a stage
	if o.Postgres != "" {
		if admin, err = sql.Open("pgx", o.Postgres); err != nil {
			return nil, err
		}
		defer admin.Close()
	}
	baseline, baselineCPU, err := rawAsynq(ctx, rdb, o.Emails, o.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(w, "baseline: raw asynq, %d trivial tasks enqueued one by one and processed by a no-op handler: %s = %.0f tasks/s; %s\n",
		o.Emails, baseline.Round(time.Millisecond), float64(o.Emails)/baseline.Seconds(), cpuFigures(baselineCPU, o.Emails))

	sender, err := email.New(sinkConfig(sink))
	if err != nil {
		return nil, err
	}
	smtpTime, smtpCPU, err := smtpOnly(ctx, sender, o.Emails, o.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("smtp only: %w", err)
	}
	fmt.Fprintf(w, "component: email.Sender alone (SMTP to the loopback sink, up to %d messages per connection, %d at a time, no queue, no database): %d emails in %s = %.0f emails/s; %s\n",
		sinkConfig(sink).MessagesPerConnection, o.Concurrency, o.Emails, smtpTime.Round(time.Millisecond), float64(o.Emails)/smtpTime.Seconds(), cpuFigures(smtpCPU, o.Emails))

	var out []NotifyEngine
	for _, t := range targets {
		e := NotifyEngine{Name: t.name, Emails: o.Emails, BaselineTime: baseline, SMTPTime: smtpTime,
			BaselineCPU: baselineCPU, SMTPCPU: smtpCPU}
		run := func(step func(dsn string) error) error {
			dsn, drop, err := t.fresh(ctx, o.Postgres, o.Dir, "bench-notify-")
			defer drop()
			if err != nil {
				return err
			}
			return step(dsn)
		}
		err := run(func(dsn string) (err error) {
			e.ClaimTime, e.ClaimCPU, e.ClaimWriter, err = outboxOnly(ctx, admin, t.driver, dsn, o.Emails, o.Concurrency)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("%s outbox only: %w", t.name, err)
		}
		fmt.Fprintf(w, "%s: component: outbox alone (ClaimNotification then MarkSent, the deliverer's two write transactions per email, %d at a time): %d emails in %s = %.0f emails/s; %s\n",
			t.name, o.Concurrency, o.Emails, e.ClaimTime.Round(time.Millisecond), float64(o.Emails)/e.ClaimTime.Seconds(), cpuFigures(e.ClaimCPU, o.Emails))
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			return out, err
		}
		err = run(func(dsn string) error {
			return e.pipeline(ctx, admin, t.driver, dsn, rdb, sink, o.Concurrency, namedFile(o.CPUProfile, t.name))
		})
		if err != nil {
			return out, fmt.Errorf("%s pipeline: %w", t.name, err)
		}
		e.PeakRSSBytes = peakRSS()
		fmt.Fprintf(w, "%s: pipeline: %d outbox rows (AddNotification, %s, not counted) dispatched (notify.Dispatcher.Dispatch, jobs.Enqueuer) and delivered (jobs.Handlers → notify.Deliverer → email.Sender, SMTP to a loopback sink, %d messages received) until NotificationCounts says all sent: %s (all enqueued after %s) = %.0f emails/s; ratio pipeline/raw asynq (time) %.2f; peak RSS %.0f MB; %s\n",
			t.name, e.Emails, e.OutboxTime.Round(time.Millisecond), e.Received, e.PipelineTime.Round(time.Millisecond),
			e.DispatchTime.Round(time.Millisecond), e.PipelineRate(),
			e.PipelineTime.Seconds()/e.BaselineTime.Seconds(), float64(e.PeakRSSBytes)/(1<<20), cpuFigures(e.PipelineCPU, o.Emails))
		fmt.Fprintf(w, "%s: pipeline ÷ its slowest stage alone (raw asynq, email.Sender, the outbox; each %d at a time): %.0f/%.0f emails/s = %.2f\n",
			t.name, o.Concurrency, e.PipelineRate(), e.SlowestStageRate(), e.PipelineRate()/e.SlowestStageRate())
		if cap := e.StagesCPURate(); cap > 0 {
			fmt.Fprintf(w, "%s: pipeline ÷ what the cores carry at the stages' CPU per email summed (%d cores ÷ %.2f ms): %.0f/%.0f emails/s = %.2f\n",
				t.name, runtime.NumCPU(), 1000*float64(runtime.NumCPU())/cap, e.PipelineRate(), cap, e.PipelineRate()/cap)
		}
		if e.PipelineWriter.Writes > 0 {
			fmt.Fprintf(w, "%s: one writer at a time: held %s of the outbox alone (%d commits for %d claims and marks, %s each), %s of the pipeline (%d commits, %s each)\n",
				t.name, heldShare(e.ClaimWriter, e.ClaimTime), e.ClaimWriter.Writes, 2*e.Emails, perWrite(e.ClaimWriter),
				heldShare(e.PipelineWriter, e.PipelineTime), e.PipelineWriter.Writes, perWrite(e.PipelineWriter))
		}
		if o.ComposeDossiers > 0 {
			err := run(func(dsn string) error { return e.compose(ctx, t.driver, dsn, o.ComposeDossiers, o.Seed) })
			if err != nil {
				return out, fmt.Errorf("%s compose: %w", t.name, err)
			}
			fmt.Fprintf(w, "%s: compose: %d simulated dossiers, a full detection pass at 06:00 (office hours only, so its %d alerts on %d new breaches stay pending), then notify.Service.Notify at the same time with mail at any hour: %d digest emails in %s = %.0f alerts/s\n",
				t.name, e.ComposeDossiers, e.ComposeAlerts, e.ComposeBreaches, e.ComposeEmails, e.ComposeTime.Round(time.Millisecond),
				float64(e.ComposeAlerts)/e.ComposeTime.Seconds())
		}
		out = append(out, e)
	}
	return out, nil
}

// rawAsynq enqueues n trivial tasks from one client, one at a time, into a
// running server of the given concurrency, and times until all are processed.
func rawAsynq(ctx context.Context, rdb redis.UniversalClient, n, concurrency int) (time.Duration, stageCPU, error) {
	const typ = "bench:noop"
	var processed atomic.Int64
	done := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc(typ, func(context.Context, *asynq.Task) error {
		if processed.Add(1) == int64(n) {
			close(done)
		}
		return nil
	})
	srv := asynq.NewServerFromRedisClient(rdb, benchServerConfig(concurrency))
	if err := srv.Start(mux); err != nil {
		return 0, stageCPU{}, err
	}
	defer srv.Shutdown()
	client := asynq.NewClientFromRedisClient(rdb)
	payload := []byte(`{"notification":1000000}`) // a deliver task's size
	start, cpu := time.Now(), cpuScope{redis: rdb}.start(ctx)
	for range n {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask(typ, payload, asynq.Queue(jobs.DeliveryQueue))); err != nil {
			return 0, stageCPU{}, err
		}
	}
	select {
	case <-done:
		return time.Since(start), cpu.since(ctx), nil
	case <-ctx.Done():
		return 0, stageCPU{}, ctx.Err()
	case <-time.After(10 * time.Minute):
		return 0, stageCPU{}, fmt.Errorf("%d of %d tasks processed after 10 minutes", processed.Load(), n)
	}
}

// pipeline fills a fresh outbox with e.Emails realistic digests, then times
// their dispatch and delivery through the handlers the worker registers.
func (e *NotifyEngine) pipeline(ctx context.Context, admin *sql.DB, driver, dsn string, rdb redis.UniversalClient, sink *mailcatch.Catcher, concurrency int, profile string) error {
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.KeepIdle(concurrency + 2) // the workers, the dispatcher and the counts, as worker.Run keeps
	t0 := time.Now()
	if err := fillOutbox(ctx, db, e.Emails); err != nil {
		return err
	}
	e.OutboxTime = time.Since(t0)

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	smtpCfg := sinkConfig(sink)
	sender, err := email.New(smtpCfg)
	if err != nil {
		return err
	}
	// Assembled as worker.RunWith does: the dispatcher with jobs.Enqueuer, the
	// deliverer behind jobs.Handlers, an asynq server on the
	// deliveries' queue.
	client := asynq.NewClientFromRedisClient(rdb)
	dispatcher := &notify.Dispatcher{Store: db, Enqueue: jobs.Enqueuer(client)}
	handlers := &jobs.Handlers{
		Runs: db, Logger: log,
		Notifier: notify.Outbox{Dispatcher: dispatcher, Deliverer: &notify.Deliverer{
			Store: db, Sender: sender, Logger: log, ClaimStale: notify.ClaimStale(smtpCfg.Conversation()),
		}},
	}
	mux := asynq.NewServeMux()
	handlers.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, benchServerConfig(concurrency))
	if err := srv.Start(mux); err != nil {
		return err
	}
	defer srv.Shutdown()

	stopProfile, err := StartCPUProfile(profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	before, writer := sink.Count(), db.WriterStats()
	start, cpu := time.Now(), pgScope(rdb, admin, dsn).start(ctx)
	n, err := dispatcher.Dispatch(ctx)
	if err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	e.DispatchTime = time.Since(start)
	if n != e.Emails {
		return fmt.Errorf("dispatched %d of %d notifications", n, e.Emails)
	}
	// The sink's counter says when to ask the outbox: a count of the table
	// every few milliseconds would compete with the deliveries for the CPU.
	deadline := time.Now().Add(10 * time.Minute)
	lastAsked := time.Now()
	for {
		if sink.Count()-before >= e.Emails || time.Since(lastAsked) > 500*time.Millisecond {
			lastAsked = time.Now()
			c, err := db.NotificationCounts(ctx)
			if err != nil {
				return err
			}
			if c["failed"] > 0 {
				return fmt.Errorf("%d notifications failed (see their last_error)", c["failed"])
			}
			if c["sent"] == e.Emails {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d sent after 10 minutes", c["sent"], e.Emails)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	e.PipelineTime, e.PipelineCPU, e.PipelineWriter = time.Since(start), cpu.since(ctx), db.WriterStats().Sub(writer)
	stopProfile()
	e.Received = sink.Count() - before
	return nil
}

// digest is one rendered email of the benchmark.
type digest struct{ id, email, subject, text, html string }

// digests renders, with the real templates, a digest of five breaches for
// each of a few of the simulator's officials.
func digests() ([]digest, error) {
	renderer, err := email.NewRenderer("")
	if err != nil {
		return nil, err
	}
	var out []digest
	due := time.Date(2026, 11, 20, 17, 0, 0, 0, sla.Location())
	for i, p := range []struct{ id, name string }{
		{"nguyen.van.a", "Nguyễn Văn A"}, {"tran.thi.b", "Trần Thị B"}, {"pham.van.c", "Phạm Văn C"},
		{"dang.thu.n", "Đặng Thu N"}, {"hoang.van.e", "Hoàng Văn E"},
	} {
		d := email.Digest{
			Recipient: email.Recipient{Name: p.name, Email: p.id + "@hoabinh.example", Role: dvcwatch.RoleOfficial},
			Agency:    "UBND xã Hòa Bình",
		}
		for j := range 5 {
			code := fmt.Sprintf("H99.31-2611%02d-%04d", 10+j, 100*i+j)
			d.Rows = append(d.Rows, email.Row{
				Code: code, Procedure: "Chứng thực bản sao từ bản chính giấy tờ, văn bản", Department: "Tư pháp – Hộ tịch",
				Official: p.name, DueAt: due, LateDays: j + 1,
				Tags: []email.Tag{{Kind: dvcwatch.BreachOverdue, Severity: dvcwatch.SeverityWarning}},
				Link: "https://motcua.example/ho-so/" + code, ApplicantName: "Nguyễn Thị Hoa", ApplicantPhone: "0912345678",
			})
		}
		subject, text, html, err := renderer.Render(d)
		if err != nil {
			return nil, err
		}
		out = append(out, digest{p.id, d.Recipient.Email, subject, text, html})
	}
	return out, nil
}

// fillOutbox adds n notifications, each in its own transaction as the
// composer's are, the digests in turn.
func fillOutbox(ctx context.Context, db *store.DB, n int) error {
	bodies, err := digests()
	if err != nil {
		return err
	}
	now := time.Now()
	for i := range n {
		b := bodies[i%len(bodies)]
		_, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{
			DedupeKey: "bench:" + strconv.Itoa(i), Kind: dvcwatch.NotificationAlerts, Recipient: b.id, Email: b.email,
			Subject: b.subject, Text: b.text, HTML: b.html, Items: 5,
		}, now)
		if err != nil {
			return err
		}
	}
	return nil
}

// parallel runs fn(i) for i in [0, n), concurrency at a time, and returns
// the first error.
func parallel(n, concurrency int, fn func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(concurrency)
	for i := range n {
		g.Go(func() error { return fn(i) })
	}
	return g.Wait()
}

// smtpOnly times n sends of the digests through a real email.Sender to the
// sink, concurrency at a time, without queue or database.
func smtpOnly(ctx context.Context, sender *email.Sender, n, concurrency int) (time.Duration, stageCPU, error) {
	bodies, err := digests()
	if err != nil {
		return 0, stageCPU{}, err
	}
	start, cpu := time.Now(), cpuScope{}.start(ctx)
	err = parallel(n, concurrency, func(i int) error {
		b := bodies[i%len(bodies)]
		return sender.Send(ctx, email.Message{
			To: []string{b.email}, Subject: b.subject, Text: b.text, HTML: b.html,
			MessageID: "dvcwatch.bench." + strconv.Itoa(i),
		})
	})
	return time.Since(start), cpu.since(ctx), err
}

// outboxOnly times claiming and marking sent n outbox rows of a fresh store,
// concurrency at a time, as the deliverer does around each SMTP conversation.
func outboxOnly(ctx context.Context, admin *sql.DB, driver, dsn string, n, concurrency int) (time.Duration, stageCPU, store.WriterStats, error) {
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return 0, stageCPU{}, store.WriterStats{}, err
	}
	defer db.Close()
	db.KeepIdle(concurrency + 2) // as the pipeline's
	if err := fillOutbox(ctx, db, n); err != nil {
		return 0, stageCPU{}, store.WriterStats{}, err
	}
	ids, err := db.Undelivered(ctx, time.Now().Add(time.Hour), n)
	if err != nil {
		return 0, stageCPU{}, store.WriterStats{}, err
	}
	if len(ids) != n {
		return 0, stageCPU{}, store.WriterStats{}, fmt.Errorf("%d undelivered rows, want %d", len(ids), n)
	}
	writer := db.WriterStats()
	start, cpu := time.Now(), pgScope(nil, admin, dsn).start(ctx)
	err = parallel(n, concurrency, func(i int) error {
		if _, err := db.ClaimNotification(ctx, ids[i], time.Now(), notify.DefaultClaimStale); err != nil {
			return err
		}
		return db.MarkSent(ctx, ids[i], time.Now())
	})
	return time.Since(start), cpu.since(ctx), db.WriterStats().Sub(writer), err
}

// heldShare is the share of elapsed during which a write held the writers'
// gate.
func heldShare(s store.WriterStats, elapsed time.Duration) string {
	return fmt.Sprintf("%.0f%%", 100*s.Held.Seconds()/elapsed.Seconds())
}

// perWrite is how long each commit held the writers' gate on average.
func perWrite(s store.WriterStats) string {
	return fmt.Sprintf("%.2f ms", 1000*s.Held.Seconds()/float64(max(s.Writes, 1)))
}

// compose fills a store from the simulator at 06:00 on a Tuesday, runs a full
// detection pass with office_hours_only (so every alert it plans stays
// pending), then times composing them (notify.Service.Notify) with mail at
// any hour.
func (e *NotifyEngine) compose(ctx context.Context, driver, dsn string, dossiers int, seed int64) error {
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Date(2026, 11, 24, 6, 0, 0, 0, sla.Location())
	now, dir, err := fillFromSimulator(ctx, db, DetectOptions{Seed: seed, Dossiers: dossiers, Start: start})
	if err != nil {
		return err
	}
	if e.ComposeDossiers, err = db.CountDossiers(ctx); err != nil {
		return err
	}
	cfg, err := detectConfig(dir, driver, dsn, true)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	svc, err := worker.New(cfg, db, log)
	if err != nil {
		return err
	}
	res, err := svc.Detector.Run(ctx, detect.Options{Now: now, Full: true, Holder: "bench"})
	if err != nil {
		return err
	}
	if res.Notifications != 0 {
		return fmt.Errorf("the pass at %s composed %d emails: want its alerts left pending", now, res.Notifications)
	}
	e.ComposeBreaches, e.ComposeAlerts = sum(res.New), res.Alerts
	anyHour := *cfg
	anyHour.Notify.OfficeHoursOnly = false
	svc, err = worker.New(&anyHour, db, log)
	if err != nil {
		return err
	}
	t0 := time.Now()
	e.ComposeEmails, err = svc.Notify.Notify(ctx, now)
	e.ComposeTime = time.Since(t0)
	return err
}

// sinkConfig is the smtp section of a configuration that sends to sink.
func sinkConfig(sink *mailcatch.Catcher) config.SMTP {
	return config.SMTP{
		Host: "127.0.0.1", Port: sink.Port(), From: "UBND xã Hòa Bình <canhbao@hoabinh.example>",
		TLS: config.TLSNone, Timeout: 30 * time.Second, MessagesPerConnection: config.DefaultMessagesPerConnection,
	}
}
