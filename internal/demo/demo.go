// Package demo runs dvcwatch's real jobs on an embedded stack for a new user:
// SQLite, in-process Redis, the portal simulator on its own clock and an SMTP
// catcher, all in one process, through the same worker.RunWith as serve.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// Defaults of Options.
const (
	// Database is the SQLite file the demo keeps in its data directory.
	Database = "dvcwatch.db"
	// ConfigFile is the demo's configuration, left beside a kept database so
	// that every command can read the demo's data.
	ConfigFile = "dvcwatch.yaml"
	// DefaultDossiers is a commune's three months of dossiers.
	DefaultDossiers = 3000
	// DefaultSpeed is 10 simulated minutes per wall second: a working
	// day (7h30) in 45 s, a calendar day in 2m24s.
	DefaultSpeed = 10
)

// ErrDirInUse means the data directory already holds a demo's database.
// The simulator starts afresh at every run, so a database from an earlier
// run (whose cursors are ahead of the new simulated time) would mislead.
var ErrDirInUse = errors.New("holds " + Database + " from an earlier run; the simulator starts afresh at every run, so give a new or empty directory")

// Intervals are how often, in wall time, the demo's schedules run.
type Intervals struct {
	SyncOneStop time.Duration
	SyncDVCQG   time.Duration
	Reconcile   time.Duration
	Detect      time.Duration
	// Dispatch re-enqueues undelivered emails. A detection pass enqueues the
	// emails it creates at once, so this only matters after a lost queue.
	Dispatch time.Duration
	// Digest writes the office's summary; there is one per simulated day.
	Digest time.Duration
}

// DefaultIntervals returns the demo's schedules: short enough that
// something happens every few seconds, long enough that a pass of a few
// thousand dossiers finishes well before the next.
func DefaultIntervals() Intervals {
	return Intervals{
		SyncOneStop: 10 * time.Second, SyncDVCQG: 15 * time.Second, Reconcile: 30 * time.Second,
		Detect: 15 * time.Second, Dispatch: 10 * time.Second, Digest: time.Minute,
	}
}

// fields lists the intervals by schedule name, for defaults and checks.
func (iv *Intervals) fields() []struct {
	name string
	d    *time.Duration
} {
	return []struct {
		name string
		d    *time.Duration
	}{
		{"sync-onestop", &iv.SyncOneStop}, {"sync-dvcqg", &iv.SyncDVCQG}, {"reconcile-dvcqg", &iv.Reconcile},
		{"detect", &iv.Detect}, {"notify", &iv.Dispatch}, {"digest", &iv.Digest},
	}
}

// LightFaults are the demo portals' faults: a few failed, broken or
// expired requests (the connectors retry them, and log each retry), bad and
// duplicated records in some pages (skipped and counted by the sync), and the
// simulator's realistic national copy (dossiers missing, stuck or late on
// DVCQG, which the reconciliation reports). Timeouts and throttling are left
// out: they only make the demo wait.
func LightFaults() portalsim.Faults {
	f := portalsim.DefaultFaults()
	f.ErrorRate = 0.02
	f.MalformedRate = 0.005
	f.SessionExpiryRate = 0.01
	f.DuplicateRate = 0.05
	f.BadRecordRate = 0.05
	return f
}

// Options configure Run; zero fields take the defaults.
type Options struct {
	// Dir is the data directory (created if missing, kept afterwards); ""
	// makes a temporary one, removed at the end unless Keep.
	Dir  string
	Keep bool
	// Dossiers is how many dossiers the simulated commune received in the
	// 90 days before now (DefaultDossiers).
	Dossiers int
	Seed     int64 // of the population and the fault draws; 0 is 1
	// Speed is simulated minutes per wall second (DefaultSpeed).
	Speed int
	// Faults the simulator injects; nil: LightFaults.
	Faults *portalsim.Faults
	// AdminListener serves the admin API and UI; nil: 127.0.0.1 on any port.
	AdminListener net.Listener
	Intervals     Intervals // zero fields: DefaultIntervals
	// Out receives where to look, a line per job run, and the summary last.
	Out io.Writer
	// Logger receives the services' log (portal retries among them); nil:
	// a log at LogLevel written to a file named in the header (LogFile),
	// kept out of the job table, or to Stderr if Verbose.
	Logger *slog.Logger
	// LogLevel is the least level logged; nil: warnings and errors.
	LogLevel slog.Leveler
	// Verbose logs to Stderr, between the job lines, instead of a file.
	Verbose bool
	// Stderr receives the log when Verbose; nil: os.Stderr.
	Stderr io.Writer
}

// LogFile is the demo's log in its data directory. A temporary data
// directory is removed at exit, so its log is written beside it instead
// (/tmp/dvcwatch-demo-123.log), and kept.
const LogFile = "dvcwatch.log"

// Summary counts what a demo run did.
type Summary struct {
	Dossiers   int // stored dossiers, the copies from both portals
	Events     int // status events
	Breaches   int // breaches recorded, open or resolved
	Emails     int // messages the mail catcher accepted
	FailedJobs int // job runs that failed plus failed tasks still open
	// MaxEmailKB is the largest email's HTML body, in KB: mail clients clip
	// a message over about 100 KB.
	MaxEmailKB int
}

// String is the summary line the demo prints last.
func (s Summary) String() string {
	return fmt.Sprintf("summary: dossiers=%d events=%d breaches=%d emails=%d failed_jobs=%d max_email_kb=%d",
		s.Dossiers, s.Events, s.Breaches, s.Emails, s.FailedJobs, s.MaxEmailKB)
}

func (o *Options) setDefaults() {
	if o.Dossiers == 0 {
		o.Dossiers = DefaultDossiers
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Speed == 0 {
		o.Speed = DefaultSpeed
	}
	if o.Faults == nil {
		f := LightFaults()
		o.Faults = &f
	}
	def := DefaultIntervals()
	defaults := def.fields()
	for i, f := range o.Intervals.fields() {
		if *f.d == 0 {
			*f.d = *defaults[i].d
		}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.LogLevel == nil {
		o.LogLevel = slog.LevelWarn
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
}

// demoLog is where the demo's log goes, and how many lines went there.
type demoLog struct {
	path  string // "" when not a file of the demo's
	file  *os.File
	lines countingWriter
}

// openLog gives o a logger if it has none: to a file (path), or to Stderr
// when Verbose.
func openLog(o *Options, path string) (*demoLog, error) {
	l := &demoLog{}
	switch {
	case o.Logger != nil:
		return l, nil
	case o.Verbose:
		l.lines.w = o.Stderr
	default:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, fmt.Errorf("demo log: %w", err)
		}
		l.path, l.file, l.lines.w = path, f, f
	}
	o.Logger = slog.New(slog.NewTextHandler(&l.lines, &slog.HandlerOptions{Level: o.LogLevel}))
	return l, nil
}

// where is the header's log line.
func (l *demoLog) where(level slog.Leveler) string {
	switch {
	case l.path != "":
		return fmt.Sprintf("%s (%s and above, kept out of this table; --verbose prints them here)", l.path, level.Level())
	case l.lines.w != nil:
		return fmt.Sprintf("on stderr, between the job lines (%s and above)", level.Level())
	}
	return "to the caller's logger"
}

func (l *demoLog) close() error {
	if l.file == nil {
		return nil
	}
	return l.file.Close()
}

// countingWriter counts the lines written through it.
type countingWriter struct {
	w  io.Writer
	mu sync.Mutex
	n  int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += bytes.Count(p, []byte("\n"))
	return c.w.Write(p)
}

func (c *countingWriter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Validate reports the first invalid option, naming it; zero values are
// defaults and valid.
func (o Options) Validate() error {
	switch {
	case o.Dossiers < 0:
		return fmt.Errorf("dossiers: %d: want 1 or more", o.Dossiers)
	case o.Speed < 0 || o.Speed > 24*60:
		return fmt.Errorf("speed: %d: want 1 to 1440 simulated minutes per second", o.Speed)
	}
	for _, f := range o.Intervals.fields() {
		// asynq keeps scheduled times to the second.
		if d := *f.d; d != 0 && (d < time.Second || d%time.Second != 0) {
			return fmt.Errorf("%s interval %s: want whole seconds, 1s or more", f.name, d)
		}
	}
	if err := (portalsim.Options{Dossiers: o.Dossiers, Faults: o.Faults}).Validate(); err != nil {
		return err
	}
	return nil
}

// Run runs the real jobs on short schedules against an embedded stack,
// all in this process: a SQLite file, the in-process Redis, the portal
// simulator on loopback (both portals, the national one mirroring the
// one-stop system) with its simulated time moving at Speed, and the SMTP
// catcher as the mail server. Jobs run through RunWith, the code paths of
// serve, on the simulator's clock. It prints where to look, one line per job
// run, and, once everything is closed, the summary as its last line. It
// returns when ctx ends (nil: a clean stop) or the stack fails.
//
// The in-process Redis keeps nothing: tasks queued at the end are lost, and
// that is safe because the outbox in SQL is the record of every email (the
// dispatcher re-enqueues undelivered rows at start and on its schedule).
func Run(ctx context.Context, o Options) (Summary, error) {
	if err := o.Validate(); err != nil {
		return Summary{}, err
	}
	o.setDefaults()
	dir, temporary := o.Dir, o.Dir == ""
	if temporary {
		var err error
		if dir, err = os.MkdirTemp("", "dvcwatch-demo-"); err != nil {
			return Summary{}, fmt.Errorf("demo data directory: %w", err)
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Summary{}, fmt.Errorf("demo data directory: %w", err)
		}
		if _, err := os.Stat(filepath.Join(dir, Database)); err == nil {
			return Summary{}, fmt.Errorf("data directory %s: %w", dir, ErrDirInUse)
		}
	}
	logPath := filepath.Join(dir, LogFile)
	if temporary && !o.Keep {
		logPath = dir + ".log"
	}
	dlog, err := openLog(&o, logPath)
	if err != nil {
		if temporary {
			_ = os.RemoveAll(dir)
		}
		return Summary{}, err
	}
	out := &lockedWriter{w: o.Out}
	sum, ran, err := runDemo(ctx, o, dir, temporary && !o.Keep, out, dlog)
	if cerr := dlog.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("demo log: %w", cerr))
	}
	if temporary && !o.Keep {
		if rerr := os.RemoveAll(dir); rerr != nil {
			o.Logger.Warn("remove the demo's data directory", "dir", dir, "err", rerr)
		}
	} else if ran {
		out.printf("data kept in %s\n", dir)
	}
	if ran && dlog.path != "" {
		out.printf("log: %d lines in %s\n", dlog.lines.count(), dlog.path)
	}
	if ran {
		out.printf("%s\n", sum)
	}
	return sum, err
}

// runDemo builds the stack, runs it until ctx ends and closes it; ran says
// whether the jobs ran, and so whether the summary means anything.
func runDemo(ctx context.Context, o Options, dir string, removed bool, out *lockedWriter, dlog *demoLog) (sum Summary, ran bool, err error) {
	log := o.Logger
	adminLn := o.AdminListener
	if adminLn == nil {
		if adminLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return sum, false, fmt.Errorf("admin listener: %w", err)
		}
	}
	defer adminLn.Close() // RunWith's admin server closes it too; this covers the early returns

	began := time.Now()
	sim := portalsim.New(portalsim.Options{Seed: o.Seed, Dossiers: o.Dossiers, Faults: o.Faults})
	defer sim.Close()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sum, false, fmt.Errorf("portal simulator: listen: %w", err)
	}
	simSrv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := simSrv.Serve(simLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("portal simulator stopped", "err", err)
		}
	}()
	defer func() {
		sim.Close() // releases requests held by timeout faults
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = simSrv.Shutdown(sctx)
	}()
	simURL := "http://" + simLn.Addr().String()

	mail, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		return sum, false, fmt.Errorf("mail catcher: %w", err)
	}
	defer mail.Close()

	token, err := demoToken()
	if err != nil {
		return sum, false, err
	}
	dsn := filepath.Join(dir, Database)
	if abs, err := filepath.Abs(dsn); err == nil {
		dsn = abs // the configuration left in a kept directory works from anywhere
	}
	cfg, yaml, err := demoConfig(sim.Directory(), simURL, dsn, mail.Port(), token, o.Intervals)
	if err != nil {
		return sum, false, fmt.Errorf("demo configuration: %w", err)
	}
	configPath := ""
	if !removed {
		// Every command runs against the demo's data with it (report,
		// breaches list, dossier show); it holds this run's admin token.
		configPath = filepath.Join(filepath.Dir(dsn), ConfigFile)
		if err := os.WriteFile(configPath, []byte(yaml), 0o600); err != nil {
			return sum, false, fmt.Errorf("demo configuration: %w", err)
		}
	}
	rdb, err := worker.OpenRedis(cfg.Redis)
	if err != nil {
		return sum, false, err
	}
	defer rdb.Close()
	// Every job judges dossiers by the simulator's clock, so that deadlines
	// pass while the demo runs; job runs keep wall-clock times.
	svc, err := worker.Open(ctx, cfg, log, worker.WithRedis(rdb), worker.WithClock(sim))
	if err != nil {
		return sum, false, err
	}
	defer func() {
		if cerr := svc.Close(); cerr != nil {
			log.Warn("close the demo's database", "err", cerr)
		}
	}()

	p := &demoPrinter{out: out, sim: sim, mail: mail, targets: map[string]string{}}
	for _, s := range cfg.Schedules {
		p.targets[s.Name] = s.Connector
	}
	st := sim.Stats()
	p.banner(demoBanner{
		admin: "http://" + adminLn.Addr().String(), token: token, smtp: mail.Addr(), dsn: dsn, removed: removed, config: configPath,
		simURL: simURL, agency: sim.Directory().Agency.Name, dossiers: st.Dossiers, dvcqg: st.DVCQGDossiers,
		faults: describeFaults(*o.Faults), simStart: sim.Now(), speed: o.Speed, schedules: cfg.Schedules,
		built: time.Since(began), log: dlog.where(o.LogLevel),
	})

	runCtx, stopClock := context.WithCancel(ctx)
	clockDone := make(chan struct{})
	go func() {
		defer close(clockDone)
		advance(runCtx, sim, o.Speed, log)
	}()
	err = worker.RunWith(ctx, svc, worker.RunOptions{AdminListener: adminLn, OnJobRun: p.run})
	stopClock()
	<-clockDone

	// ctx has ended: count with a context of its own.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	sum, serr := demoSummary(cctx, svc.DB, mail)
	if !removed {
		if werr := writeMail(filepath.Join(filepath.Dir(dsn), "mail"), mail.Messages(), out); werr != nil {
			log.Warn("write the caught emails", "err", werr)
		}
	}
	return sum, true, errors.Join(err, serr)
}

// advance moves the simulated time speed minutes every wall second until ctx
// ends or the simulator's horizon is reached.
func advance(ctx context.Context, sim *portalsim.Sim, speed int, log *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := sim.Advance(speed); err != nil {
				log.Warn("simulated time stopped", "err", err)
				return
			}
		}
	}
}

func demoSummary(ctx context.Context, db *store.DB, mail *mailcatch.Catcher) (Summary, error) {
	s := Summary{Emails: mail.Count()}
	t, err := db.Totals(ctx)
	if err != nil {
		return s, err
	}
	for _, n := range t.Dossiers {
		s.Dossiers += n
	}
	s.Events = t.Events
	oc, err := db.Outcomes(ctx)
	if err != nil {
		return s, err
	}
	s.Breaches, s.FailedJobs = oc.Breaches, oc.FailedRuns+oc.OpenFailedTasks
	s.MaxEmailKB = (oc.MaxEmailHTML + 1023) / 1024
	return s, nil
}

// demoToken is the run's admin token, the demo's login: random, so that a
// demo left running on a shared machine is not open to whoever knows a
// default.
func demoToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// demoConfig is the configuration of the demo: the simulated commune's
// agency, departments, officials and procedures (from the simulator's
// directory), both portals on the simulator, the demo's schedules, mail to
// the catcher and the run's admin token.
func demoConfig(dir portalsim.Directory, simURL, dsn string, smtpPort int, token string, iv Intervals) (*config.Config, string, error) {
	people, err := dir.ConfigYAML()
	if err != nil {
		return nil, "", err
	}
	every := func(d time.Duration) string { return fmt.Sprintf("%q", "@every "+d.String()) }
	// office_hours_only is off: simulated time races through nights and
	// weekends, and alerts held for the next office morning would reach the
	// catcher in bursts, or after the demo ended.
	y := people + fmt.Sprintf(`database:
  driver: sqlite
  dsn: %q
redis:
  embedded: true
connectors:
  - name: onestop
    kind: onestop
    base_url: %q
    username: %q
    password: %q
    rate_limit: 100
    burst: 10
  - name: dvcqg
    kind: dvcqg
    base_url: %q
    agency_code: %q
    username: %q
    password: %q
    rate_limit: 100
    burst: 10
    mirror_of: onestop
schedules:
  - {name: sync-onestop, cron: %s, job: sync, connector: onestop}
  - {name: sync-dvcqg, cron: %s, job: sync, connector: dvcqg}
  - {name: reconcile-dvcqg, cron: %s, job: reconcile, connector: dvcqg}
  - {name: detect, cron: %s, job: detect}
  - {name: notify, cron: %s, job: notify}
  - {name: digest, cron: %s, job: digest}
scheduler:
  min_interval: 1s # the demo's schedules tick every few seconds
notify:
  dossier_url: https://motcua.example/ho-so/{code}
  office_hours_only: false
smtp:
  host: 127.0.0.1
  port: %d
  from: %q
  tls: none
  timeout: 5s
admin:
  tokens:
    - {name: demo, role: admin, token: %q}
shutdown_timeout: 10s
log:
  level: warn
`, dsn, simURL, portalsim.DefaultUsername, portalsim.DefaultPassword,
		simURL, dir.Agency.Code, portalsim.DefaultUsername, portalsim.DefaultPassword,
		every(iv.SyncOneStop), every(iv.SyncDVCQG), every(iv.Reconcile), every(iv.Detect), every(iv.Dispatch), every(iv.Digest),
		smtpPort, "canhbao@"+portalsim.DefaultEmailDomain, token)
	cfg, err := config.Parse([]byte(y), "demo.yaml")
	return cfg, y, err
}

// describeFaults names the simulator's non-zero fault rates.
func describeFaults(f portalsim.Faults) string {
	var parts []string
	add := func(rate float64, what string) {
		if rate > 0 {
			parts = append(parts, fmt.Sprintf("%s %g%%", what, rate*100))
		}
	}
	add(f.ErrorRate, "5xx")
	add(f.ThrottleRate, "429")
	add(f.TimeoutRate, "timeouts")
	add(f.MalformedRate+f.TruncatedRate, "broken JSON")
	add(f.SessionExpiryRate, "expired sessions")
	add(f.DuplicateRate, "pages with a duplicate")
	add(float64(f.OutOfOrder), "pages shuffled")
	add(f.BadRecordRate, "pages with a bad record")
	add(f.DVCQGMissingRate, "missing on DVCQG")
	add(f.DVCQGMismatchRate, "stuck on DVCQG")
	add(f.DVCQGLagRate, "late on DVCQG")
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// writeMail writes the caught messages into dir, one .eml file each, so that
// a kept demo's emails can be read.
func writeMail(dir string, msgs []mailcatch.Message, out *lockedWriter) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, m := range msgs {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.eml", i+1)), m.Raw, 0o644); err != nil {
			return err
		}
	}
	out.printf("mail: %d messages written to %s\n", len(msgs), dir)
	return nil
}

// lockedWriter serializes the demo's lines: job runs finish concurrently.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// demoPrinter prints the demo's banner and a line per job run.
type demoPrinter struct {
	out     *lockedWriter
	sim     clock.Clock // the simulated time the jobs judge by
	mail    *mailcatch.Catcher
	targets map[string]string // connector by schedule name
}

type demoBanner struct {
	admin, token, smtp, dsn, simURL, agency, faults, log string
	config                                               string // the configuration left beside the data; "" when the data goes
	removed                                              bool
	dossiers, dvcqg, speed                               int
	simStart                                             time.Time
	schedules                                            []config.Schedule
	built                                                time.Duration
}

// demoSimLayout is the simulated time the jobs see, on each job line.
const demoSimLayout = "Mon 02/01 15:04"

func (p *demoPrinter) banner(b demoBanner) {
	data, mailNote := "(SQLite; kept, with its configuration "+b.config+": every command reads the demo's data with --config "+b.config+")",
		"; caught emails are written to mail/ beside the database at exit"
	if b.removed {
		data, mailNote = "(SQLite; temporary, removed at exit: --keep keeps it)", ""
	}
	var scheds []string
	for _, s := range b.schedules {
		scheds = append(scheds, s.Name+" "+strings.TrimPrefix(s.Cron, "@every "))
	}
	day := (24 * 60 * time.Second / time.Duration(b.speed)).Round(time.Second) // 1,440 simulated minutes
	p.out.printf(`dvcwatch demo: the real jobs on short schedules, every part in this process
  admin UI   %s (API under /api/v1)
  login      %s (admin token of this run only; or send Authorization: Bearer <token>)
  mail       SMTP catcher on %s: the outbox is at /api/v1/notifications%s
  data       %s %s
  queue      embedded Redis, in memory: lost at exit, which the outbox in SQL makes safe
  portals    simulator on %s: %s, %d dossiers on the one-stop system, %d on DVCQG (built in %s)
  faults     %s
  time       simulated from %s (Asia/Ho_Chi_Minh), %d minutes each second (a day every %s)
  schedules  %s
  log        %s

job runs as they end, at simulated time (giờ mô phỏng, Asia/Ho_Chi_Minh); in brackets, how long each took
%-15s  %-9s  %-7s  %-9s  %s
`, b.admin, b.token, b.smtp, mailNote, b.dsn, data, b.simURL, b.agency, b.dossiers, b.dvcqg, b.built.Round(time.Millisecond),
		b.faults, b.simStart.In(sla.Location()).Format("Mon 02/01/2006 15:04"), b.speed, day, strings.Join(scheds, ", "), b.log,
		"giờ mô phỏng", "job", "portal", "status", "counts")
}

// demoCounts are the counts each job's line shows, in order.
var demoCounts = map[string][]string{
	"sync":      {"fetched", "inserted", "updated", "events", "skipped"},
	"reconcile": {"received", "missing", "mismatched", "resolved"},
	"detect":    {"evaluated", "new", "resolved", "open", "alerts", "emails"},
	"notify":    {"enqueued"},
	"digest":    {"summaries"},
	"report":    {"reports"},
}

// run prints one finished job run at the simulated time, e.g.
//
//	Tue 03/03 14:20  sync       onestop  succeeded  fetched=2980 inserted=2980 … (1.4s)
func (p *demoPrinter) run(r dvcwatch.JobRun) {
	counts := maps.Clone(r.Counts)
	if counts == nil {
		counts = map[string]int{}
	}
	if r.Job == "detect" {
		// The pass's new and open breaches come per kind; the line sums them.
		for k, n := range r.Counts {
			if s, ok := strings.CutPrefix(k, "new_"); ok && s != "" {
				counts["new"] += n
			} else if s, ok := strings.CutPrefix(k, "open_"); ok && s != "" {
				counts["open"] += n
			}
		}
		counts["emails"] = r.Counts["notifications"]
	}
	keys, ok := demoCounts[r.Job]
	if !ok {
		keys = slices.Sorted(maps.Keys(counts))
	}
	var b strings.Builder
	if r.Status != dvcwatch.RunSkipped { // a skipped run did nothing: its reason is enough
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%d ", k, counts[k])
		}
		if r.Job == "notify" {
			fmt.Fprintf(&b, "caught=%d ", p.mail.Count())
		}
	}
	fmt.Fprintf(&b, "(%.1fs)", r.FinishedAt.Sub(r.StartedAt).Seconds())
	if r.Status != dvcwatch.RunSucceeded && r.Error != "" {
		fmt.Fprintf(&b, ": %s", shorten(r.Error, 200))
	}
	target := p.targets[r.Schedule]
	if target == "" {
		target = "-"
	}
	p.out.printf("%-15s  %-9s  %-7s  %-9s  %s\n", p.sim.Now().In(sla.Location()).Format(demoSimLayout),
		r.Job, target, r.Status, b.String())
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
