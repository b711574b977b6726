package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// SoakStart is the simulated time a soak starts at: a Monday at the opening
// of the office, so that the first simulated hours bring work (nothing
// moves at night or at the weekend); at the default speed, a 10-minute soak
// covers the working week's first four days, nights included.
const SoakStart = "2026-11-23 07:30"

// SoakOptions configure a steady-state soak.
type SoakOptions struct {
	Dossiers int
	For      time.Duration // how long the schedules run after the fill
	// Warmup is left out of the memory verdict (0: a fifth of For): the
	// first sync and the first full detection pass build what later passes
	// reuse.
	Warmup   time.Duration
	Postgres string // PostgreSQL URL (a fresh schema, dropped after); "": SQLite in Dir
	Dir      string // where the SQLite file goes
	Redis    string // host:port of a Redis whose database RedisDB is flushed first; "": the embedded one
	RedisDB  int
	Exe      string // the dvcwatch binary that runs the simulator
	// Speed is simulated minutes per wall second (0: 10, the demo's).
	Speed     int
	Sample    time.Duration // between RSS samples (0: 10 s)
	Intervals SoakIntervals // zero fields: DefaultSoakIntervals
	// MemProfile, if set, receives a heap profile when the schedules stop:
	// what is still live then.
	MemProfile string
	Out        io.Writer
}

// SoakIntervals are the soak's schedules, in wall time.
type SoakIntervals struct {
	Sync, Detect, Dispatch, Digest time.Duration
	// FullSweep is detect.full_sweep_every: a pass that starts this long
	// after the last full sweep is one (0: a quarter of the time after the
	// warm-up).
	FullSweep time.Duration
}

// DefaultSoakIntervals are the demo's schedules. FullSweep is left zero:
// the soak makes it a quarter of the time after the warm-up, so that each
// half the memory verdict compares holds full sweeps (their peak is the
// highest of the passes' and would otherwise land in one half only).
func DefaultSoakIntervals() SoakIntervals {
	return SoakIntervals{Sync: 10 * time.Second, Detect: 15 * time.Second, Dispatch: 10 * time.Second,
		Digest: time.Minute}
}

// SoakSample is the process's state at one moment of the soak.
type SoakSample struct {
	At        time.Duration // since the schedules started
	RSSBytes  int64
	HeapBytes uint64 // Go heap in use (runtime.MemStats.HeapInuse), garbage included
	// LiveBytes is the heap the last garbage collection found live
	// (runtime/metrics /gc/heap/live:bytes): what a leak grows, whatever
	// garbage the next collection will take.
	LiveBytes uint64
	// GoHeldBytes is what the Go runtime holds from the system (Sys less
	// HeapReleased): RSS above it is memory outside Go's heap, such as
	// modernc SQLite's page cache; above HeapBytes, heap freed by the
	// collector and not yet handed back.
	GoHeldBytes uint64
	// QueueLatency is asynq's age of the oldest pending task, per queue.
	QueueLatency map[string]time.Duration
	Emails       int // accepted by the SMTP sink so far
}

// SoakResult is what a soak measured.
type SoakResult struct {
	Engine  string
	Samples []SoakSample
	// Passes are the durations of the job runs that succeeded, by kind:
	// sync, detect-full, detect-incremental, notify (dispatch), digest; and
	// detect-first, the pass before the schedules that records every breach.
	Passes map[string][]time.Duration
	// Latency is, by kind, the wait of scheduled runs between their tick
	// (when the scheduler enqueued them) and the start of their processing.
	Latency map[string][]time.Duration
	// Items are, by kind, the main count of each succeeded run: dossiers
	// fetched by a sync, evaluated by a detection pass, emails enqueued by a
	// dispatch, summaries written by a digest.
	Items   map[string][]int
	Skipped map[string]int // runs that found the previous pass still running
	Failed  map[string]int
	Emails  int            // accepted by the SMTP sink
	Outbox  map[string]int // the outbox's rows by state at the end
	// Memory verdict, over the samples after the warm-up: the highest RSS in
	// each half of them (each spans a few passes of every kind, a full sweep
	// with the default intervals, so that like is compared with like), and
	// the least-squares slope of RSS.
	Warmup time.Duration
	// FirstHalfMaxRSS and LastHalfMaxRSS are zero when the samples after the
	// warm-up are too few to compare.
	FirstHalfMaxRSS, LastHalfMaxRSS int64
	SlopeMBPerMin                   float64
	Flat                            bool
	// The same halves of the memory the Go runtime holds: what a leak in
	// dvcwatch would grow. RSS also holds SQLite's page caches (up to
	// cache_size per open connection, more connections while more jobs
	// read at once), which come and go with the jobs that run.
	FirstHalfMaxGo, LastHalfMaxGo int64
	GoFlat                        bool
	// The live heap's low-water mark in each half: a job's working set
	// (the daily summary holds every late dossier of the agency while it
	// runs) lifts the peaks for a while; a leak lifts the floor for good.
	FirstHalfMinLive, LastHalfMinLive uint64
	LiveFlat                          bool
}

// flatTolerance is how much the last half's peak may exceed the first
// half's before memory is called growing: the garbage collector's heap
// target alone moves RSS by a few per cent between passes.
const flatTolerance = 1.10

// soakClock is the simulator's time as the soak last moved it: the jobs
// judge by it, as the demo's do by its in-process simulator.
type soakClock struct{ unix atomic.Int64 }

func (c *soakClock) Now() time.Time { return time.Unix(c.unix.Load(), 0).In(sla.Location()) }

// Soak runs serve's worker (worker.RunWith: scheduler, sync through the
// one-stop connector, detection, dispatch, delivery over SMTP to a sink on
// loopback) against the portal simulator with its time moving, for
// o.For, and reports RSS over time, pass durations, queue latency, emails
// and whether memory stayed flat after the warm-up.
//
// The simulator runs as a child process, as in bench sync, so that the RSS
// sampled is dvcwatch's alone (the simulator's population grows as its time
// moves). The store is filled first with ApplyPage from the simulator's
// state (bench detect's fill), with the one-stop cursor saved at the
// simulated now: at 1M that takes minutes where a first sync through the
// portal API takes several times as long, and the soak is about the steady
// state that follows, not the first sync (bench sync measures that).
func Soak(ctx context.Context, o SoakOptions) (SoakResult, error) {
	o.Speed = cmp.Or(o.Speed, 10)
	o.Sample = cmp.Or(o.Sample, 10*time.Second)
	o.Warmup = cmp.Or(o.Warmup, o.For/5)
	def := DefaultSoakIntervals()
	iv := &o.Intervals
	iv.Sync, iv.Detect, iv.Dispatch = cmp.Or(iv.Sync, def.Sync), cmp.Or(iv.Detect, def.Detect), cmp.Or(iv.Dispatch, def.Dispatch)
	iv.Digest = cmp.Or(iv.Digest, def.Digest)
	// Whole seconds: the configuration's durations are read back from text.
	iv.FullSweep = cmp.Or(iv.FullSweep, max(time.Second, ((o.For-o.Warmup)/4).Truncate(time.Second)))
	res := SoakResult{Engine: "sqlite", Passes: map[string][]time.Duration{}, Latency: map[string][]time.Duration{},
		Items: map[string][]int{}, Skipped: map[string]int{}, Failed: map[string]int{}}
	w := o.Out

	// Warnings only from the simulator: the table is the soak's.
	base, stopSim, err := startSimulator(ctx, o.Exe, o.Dossiers, "--log-level", "warn", "--start", SoakStart)
	if err != nil {
		return res, err
	}
	defer stopSim()
	dir, err := simDirectory(ctx, base)
	if err != nil {
		return res, err
	}

	driver, dsn := store.DriverSQLite, filepath.Join(o.Dir, "soak-"+randomName()+".db")
	if o.Postgres != "" {
		res.Engine, driver = "postgres", store.DriverPostgres
		var drop func()
		if dsn, drop, err = freshSchema(ctx, o.Postgres); err != nil {
			drop()
			return res, err
		}
		defer drop()
	} else {
		defer func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(dsn + suffix)
			}
		}()
	}

	clk := &soakClock{}
	t0 := time.Now()
	if err := soakFill(ctx, driver, dsn, base, clk); err != nil {
		return res, fmt.Errorf("fill: %w", err)
	}
	n, err := countDossiers(ctx, driver, dsn)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "%s: filled %d dossiers from the simulator (separate process, %s) with ApplyPage in %s; simulated time %s, moving %d minutes per second\n",
		res.Engine, n, base, time.Since(t0).Round(time.Second), clk.Now().Format("2006-01-02 15:04 MST"), o.Speed)

	mail, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		return res, fmt.Errorf("mail sink: %w", err)
	}
	defer mail.Close()
	// The sink runs in this process: the messages it kept whole were a
	// floor of live heap that grew with every email (18 MB after 254).
	mail.KeepHeadersOnly()
	cfg, err := soakConfig(dir, driver, dsn, base, o, mail.Port())
	if err != nil {
		return res, err
	}
	rdb, err := worker.OpenRedis(cfg.Redis)
	if err != nil {
		return res, err
	}
	defer rdb.Close()
	if o.Redis != "" {
		if err := rdb.Client.FlushDB(ctx).Err(); err != nil {
			return res, fmt.Errorf("flush redis db %d: %w", o.RedisDB, err)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	svc, err := worker.Open(ctx, cfg, log, worker.WithRedis(rdb), worker.WithClock(clk))
	if err != nil {
		return res, err
	}
	defer svc.Close()
	// A system in its steady state has recorded its breaches: the first pass,
	// which writes every one and plans their alerts (bench detect times it),
	// runs before the schedules, and the memory it took is handed back to
	// the system, so that the samples start from what the steady state
	// needs. Its emails are queued and delivered once the worker starts.
	t0 = time.Now()
	counts, err := svc.Detect(ctx, "soak")
	if err != nil {
		return res, fmt.Errorf("first detection pass: %w", err)
	}
	took := time.Since(t0)
	res.Passes["detect-first"], res.Items["detect-first"] = []time.Duration{took}, []int{counts["evaluated"]}
	fmt.Fprintf(w, "%s: first detection pass (before the schedules, not sampled): %s, %d dossiers evaluated, %d emails queued; peak RSS so far %s\n",
		res.Engine, took.Round(time.Second), counts["evaluated"], counts["notifications"], mb(peakRSS()))
	debug.FreeOSMemory()
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	defer admin.Close()

	var mu sync.Mutex
	began := time.Now()
	res.Warmup = o.Warmup
	onRun := func(r dvcwatch.JobRun) {
		kind := r.Job
		if kind == string(config.JobDetect) && r.Status == dvcwatch.RunSucceeded {
			kind += "-" + detectPassKind(r)
		}
		mu.Lock()
		defer mu.Unlock()
		switch r.Status {
		case dvcwatch.RunSucceeded:
			res.Passes[kind] = append(res.Passes[kind], r.FinishedAt.Sub(r.StartedAt))
			res.Items[kind] = append(res.Items[kind], r.Counts[soakItems[r.Job]])
		case dvcwatch.RunSkipped:
			res.Skipped[kind]++
		default:
			res.Failed[kind]++
		}
		if tick, ok := scheduledTick(r.TaskID); ok {
			res.Latency[r.Job] = append(res.Latency[r.Job], max(0, r.StartedAt.Sub(tick)))
		}
	}

	runCtx, stop := context.WithTimeout(ctx, o.For)
	defer stop()
	var bg sync.WaitGroup
	bg.Go(func() { soakAdvance(runCtx, base, o.Speed, clk, w) })
	samples := make(chan []SoakSample, 1)
	insp := asynq.NewInspectorFromRedisClient(rdb.Client)
	bg.Go(func() { samples <- soakSample(runCtx, began, o.Sample, insp, mail, w) })
	fmt.Fprintf(w, "%s: running serve's schedules for %s (sync every %s, detect %s with a full sweep every %s, dispatch %s, digest %s), a sample every %s\n",
		res.Engine, o.For, iv.Sync, iv.Detect, iv.FullSweep, iv.Dispatch, iv.Digest, o.Sample)
	fmt.Fprintf(w, "%8s %8s %8s %8s %8s %10s %10s %7s\n", "t", "RSS MB", "Go MB", "heap MB", "live MB", "jobs lat", "email lat", "emails")
	err = worker.RunWith(runCtx, svc, worker.RunOptions{AdminListener: admin, OnJobRun: onRun})
	stop()
	bg.Wait()
	res.Samples = <-samples
	if err != nil {
		return res, fmt.Errorf("worker: %w", err)
	}
	if o.MemProfile != "" {
		if err := writeHeapProfile(o.MemProfile); err != nil {
			return res, fmt.Errorf("heap profile: %w", err)
		}
	}

	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	res.Emails = mail.Count()
	if res.Outbox, err = svc.DB.NotificationCounts(cctx); err != nil {
		return res, err
	}
	mu.Lock()
	defer mu.Unlock()
	res.verdict()
	res.print(w)
	return res, nil
}

// simDirectory is the simulated commune's agency, people and procedures.
func simDirectory(ctx context.Context, base string) (portalsim.Directory, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sim/directory", nil)
	if err != nil {
		return portalsim.Directory{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return portalsim.Directory{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return portalsim.Directory{}, fmt.Errorf("GET /sim/directory: %s", resp.Status)
	}
	return portalsim.DecodeDirectory(resp.Body)
}

// soakFill writes the simulator's one-stop dossiers into a fresh store and
// saves the one-stop cursor at the simulated time of that state, so that
// the first scheduled sync reads only what changed since (with its overlap).
func soakFill(ctx context.Context, driver, dsn, base string, clk *soakClock) error {
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	resp, err := getState(ctx, base)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The state is as of the simulated time in its Date header; the
	// simulator stands still until the soak moves it.
	at, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return fmt.Errorf("simulated time of the state: %w", err)
	}
	clk.unix.Store(at.Unix())
	return applyState(ctx, db, resp.Body, &store.Cursor{Source: "onestop", UpdatedAt: at})
}

func countDossiers(ctx context.Context, driver, dsn string) (int, error) {
	db, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.CountDossiers(ctx)
}

// soakConfig is serve's configuration for the simulator's commune: the
// one-stop connector on the simulator, the soak's schedules, mail to the
// sink at any hour. The national portal and its reconciliation are left
// out: the fill writes the one-stop copy only, and a first DVCQG sync of a
// million dossiers, looked up one by one, is not a steady state.
func soakConfig(dir portalsim.Directory, driver, dsn, base string, o SoakOptions, smtpPort int) (*config.Config, error) {
	people, err := dir.ConfigYAML()
	if err != nil {
		return nil, err
	}
	redis := "  embedded: true\n"
	if o.Redis != "" {
		redis = fmt.Sprintf("  addr: %q\n  db: %d\n", o.Redis, o.RedisDB)
	}
	every := func(d time.Duration) string { return strconv.Quote("@every " + d.String()) }
	iv := o.Intervals
	y := people + fmt.Sprintf(`database:
  driver: %s
  dsn: %q
redis:
%sconnectors:
  - name: onestop
    kind: onestop
    base_url: %q
    username: %q
    password: %q
    rate_limit: 1000
    burst: 100
    page_size: 1000
schedules:
  - {name: sync-onestop, cron: %s, job: sync, connector: onestop}
  - {name: detect, cron: %s, job: detect}
  - {name: notify, cron: %s, job: notify}
  - {name: digest, cron: %s, job: digest}
scheduler:
  min_interval: 1s
detect:
  full_sweep_every: %s
notify:
  dossier_url: https://motcua.example/ho-so/{code}
  office_hours_only: false
smtp:
  host: 127.0.0.1
  port: %d
  from: canhbao@hoabinh.example
  tls: none
  timeout: 5s
admin:
  tokens:
    - {name: soak, role: admin, token: %q}
shutdown_timeout: 10s
log:
  level: error
`, driver, dsn, redis, base, portalsim.DefaultUsername, portalsim.DefaultPassword,
		every(iv.Sync), every(iv.Detect), every(iv.Dispatch), every(iv.Digest), iv.FullSweep, smtpPort,
		randomName()+randomName()) // the admin API needs one; nobody uses it
	return config.Parse([]byte(y), "soak.yaml")
}

// soakItems is the count that says how much work a run of each job did.
var soakItems = map[string]string{"sync": "fetched", "detect": "evaluated", "notify": "enqueued", "digest": "summaries"}

// detectPassKind tells a full detection pass from an incremental one by the
// run's counts (detect.Result.Counts).
func detectPassKind(r dvcwatch.JobRun) string {
	if r.Counts["full"] == 1 {
		return "full"
	}
	return "incremental"
}

// scheduledTick is the tick of a scheduled run, from its task ID
// (scheduler.TaskID: name@RFC3339): when the scheduler enqueued it.
func scheduledTick(taskID string) (time.Time, bool) {
	_, at, ok := strings.Cut(taskID, "@")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil || scheduler.TaskID(taskID[:len(taskID)-len(at)-1], t) != taskID {
		return time.Time{}, false
	}
	return t, true
}

// soakAdvance moves the simulator's time speed minutes every wall second, as
// the demo does, and the jobs' clock with it.
func soakAdvance(ctx context.Context, base string, speed int, clk *soakClock, w io.Writer) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	url := base + "/sim/advance?minutes=" + strconv.Itoa(speed)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(w, "simulated time stopped: %v\n", err)
			}
			return
		}
		var r portalsim.AdvanceResult
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintf(w, "simulated time stopped: %s %v\n", resp.Status, err)
			return
		}
		clk.unix.Store(r.SimTime.Unix())
	}
}

// soakSample samples the process every d until ctx ends, printing each
// sample as a row.
func soakSample(ctx context.Context, began time.Time, d time.Duration, insp *asynq.Inspector, mail *mailcatch.Catcher, w io.Writer) []SoakSample {
	var out []SoakSample
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(live)
		s := SoakSample{At: time.Since(began), RSSBytes: currentRSS(), HeapBytes: ms.HeapInuse,
			LiveBytes: live[0].Value.Uint64(), GoHeldBytes: ms.Sys - ms.HeapReleased,
			QueueLatency: map[string]time.Duration{}, Emails: mail.Count()}
		for _, q := range []string{jobs.Queue, jobs.DeliveryQueue} {
			if qi, err := insp.GetQueueInfo(q); err == nil {
				s.QueueLatency[q] = qi.Latency
			}
		}
		out = append(out, s)
		fmt.Fprintf(w, "%8s %8.0f %8.0f %8.0f %8.0f %10s %10s %7d\n", s.At.Round(time.Second), float64(s.RSSBytes)/(1<<20),
			float64(s.GoHeldBytes)/(1<<20), float64(s.HeapBytes)/(1<<20), float64(s.LiveBytes)/(1<<20), s.QueueLatency[jobs.Queue].Round(time.Millisecond),
			s.QueueLatency[jobs.DeliveryQueue].Round(time.Millisecond), s.Emails)
	}
}

// verdict judges memory over the samples after the warm-up.
func (r *SoakResult) verdict() {
	var after []SoakSample
	for _, s := range r.Samples {
		if s.At >= r.Warmup {
			after = append(after, s)
		}
	}
	if len(after) < 4 { // no halves to compare
		return
	}
	mid := after[0].At + (after[len(after)-1].At-after[0].At)/2
	var sx, sy, sxx, sxy float64
	r.FirstHalfMinLive, r.LastHalfMinLive = math.MaxUint64, math.MaxUint64
	for _, s := range after {
		if s.At <= mid {
			r.FirstHalfMaxRSS = max(r.FirstHalfMaxRSS, s.RSSBytes)
			r.FirstHalfMaxGo = max(r.FirstHalfMaxGo, int64(s.GoHeldBytes))
			r.FirstHalfMinLive = min(r.FirstHalfMinLive, s.LiveBytes)
		} else {
			r.LastHalfMaxRSS = max(r.LastHalfMaxRSS, s.RSSBytes)
			r.LastHalfMaxGo = max(r.LastHalfMaxGo, int64(s.GoHeldBytes))
			r.LastHalfMinLive = min(r.LastHalfMinLive, s.LiveBytes)
		}
		x, y := s.At.Minutes(), float64(s.RSSBytes)/(1<<20)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(after))
	if den := n*sxx - sx*sx; den != 0 {
		r.SlopeMBPerMin = (n*sxy - sx*sy) / den
	}
	r.Flat = float64(r.LastHalfMaxRSS) <= float64(r.FirstHalfMaxRSS)*flatTolerance
	r.GoFlat = float64(r.LastHalfMaxGo) <= float64(r.FirstHalfMaxGo)*flatTolerance
	r.LiveFlat = float64(r.LastHalfMinLive) <= float64(r.FirstHalfMinLive)*flatTolerance
}

func (r *SoakResult) print(w io.Writer) {
	warmup := r.Warmup
	fmt.Fprintf(w, "%s: passes (succeeded runs; skipped: the previous pass still held the lease)\n", r.Engine)
	fmt.Fprintf(w, "  %-20s %5s %9s %9s %9s %8s %7s %14s\n", "kind", "runs", "min", "median", "max", "skipped", "failed", "items (median)")
	kinds := slices.Sorted(maps.Keys(r.Passes))
	for k := range maps.Keys(r.Skipped) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for k := range maps.Keys(r.Failed) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for _, k := range kinds {
		if len(r.Passes[k]) == 0 {
			fmt.Fprintf(w, "  %-20s %5d %9s %9s %9s %8d %7d\n", k, 0, "-", "-", "-", r.Skipped[k], r.Failed[k])
			continue
		}
		lo, med, hi := spread(r.Passes[k])
		items := ""
		if is := slices.Sorted(slices.Values(r.Items[k])); len(is) > 0 {
			items = fmt.Sprintf("%d %s", is[len(is)/2], soakItems[strings.Split(k, "-")[0]])
		}
		fmt.Fprintf(w, "  %-20s %5d %9s %9s %9s %8d %7d %14s\n", k, len(r.Passes[k]), lo, med, hi, r.Skipped[k], r.Failed[k], items)
	}
	fmt.Fprintf(w, "%s: queue latency of scheduled runs (tick → start of processing)\n", r.Engine)
	for _, k := range slices.Sorted(maps.Keys(r.Latency)) {
		lo, med, hi := spread(r.Latency[k])
		fmt.Fprintf(w, "  %-20s %5d %9s %9s %9s\n", k, len(r.Latency[k]), lo, med, hi)
	}
	var jobsLat, mailLat time.Duration
	for _, s := range r.Samples {
		jobsLat, mailLat = max(jobsLat, s.QueueLatency[jobs.Queue]), max(mailLat, s.QueueLatency[jobs.DeliveryQueue])
	}
	fmt.Fprintf(w, "%s: oldest pending task at any sample: jobs queue %s, email queue %s\n", r.Engine, jobsLat.Round(time.Millisecond), mailLat.Round(time.Millisecond))
	fmt.Fprintf(w, "%s: emails accepted by the SMTP sink %d; outbox at the end %v\n", r.Engine, r.Emails, r.Outbox)
	if r.FirstHalfMaxRSS == 0 {
		fmt.Fprintf(w, "%s: memory: too few samples after the %s warm-up for a verdict\n", r.Engine, warmup)
		return
	}
	verdict := func(flat bool) string {
		if flat {
			return "FLAT"
		}
		return "GROWING"
	}
	fmt.Fprintf(w, "%s: memory after the %s warm-up: max RSS %s in its first half, %s in its last half; slope %+.2f MB/min: %s (flat: the last half's peak within %.0f%% of the first half's)\n",
		r.Engine, warmup, mb(r.FirstHalfMaxRSS), mb(r.LastHalfMaxRSS), r.SlopeMBPerMin, verdict(r.Flat), (flatTolerance-1)*100)
	fmt.Fprintf(w, "%s: the Go runtime's memory (RSS but what SQLite allocates outside Go's heap, its page caches above all, and the binary's pages): max %s in the first half, %s in the last: %s\n",
		r.Engine, mb(r.FirstHalfMaxGo), mb(r.LastHalfMaxGo), verdict(r.GoFlat))
	fmt.Fprintf(w, "%s: the live heap's low-water mark (what the last collection found live; a job's working set lifts the peaks, a leak the floor): %s in the first half, %s in the last: %s\n",
		r.Engine, mb(int64(r.FirstHalfMinLive)), mb(int64(r.LastHalfMinLive)), verdict(r.LiveFlat))
}

// spread is the minimum, median and maximum, rounded for a table.
func spread(ds []time.Duration) (lo, med, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Sorted(slices.Values(ds))
	return s[0].Round(time.Millisecond), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond)
}

// currentRSS is VmRSS from /proc/self/status.
func currentRSS() int64 { return procStatusBytes("VmRSS:") }
