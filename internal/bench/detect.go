package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// DetectOptions configure a detection benchmark.
type DetectOptions struct {
	Dossiers int
	Postgres string // PostgreSQL URL; each run uses a fresh schema and drops it; "" skips PostgreSQL
	Dir      string // where SQLite files go; "" skips SQLite
	Seed     int64
	Start    time.Time // the simulated time, and so the detection's Now
	// Keep leaves the stores (schema, file) in place for inspection.
	Keep bool
	// CPUProfile, when set, profiles each detection pass (only those) into
	// this path with the engine's and the pass's names before the extension.
	CPUProfile string
	// MemProfile, when set, writes a heap profile at the end of the first
	// full pass (what is held then, and what the process allocated so far)
	// into this path with the engine's name before the extension.
	MemProfile string
	Out        io.Writer
}

// DetectPageSize is the page size of the scans: detect's own (detect.pageSize).
const DetectPageSize = 1000

// DetectEngine is one database's figures.
type DetectEngine struct {
	Name         string
	Dossiers     int
	FillTime     time.Duration // simulator → ApplyPage, not the point of the benchmark
	BaselineTime time.Duration // plain SQL SELECT of the rows a full pass reads
	BaselineRows int           // dossier, step, supplement and apology rows it read
	ScanTime     time.Duration // store.ScanDossiers with a no-op callback: the detector's own read path
	DetectTime   time.Duration // a full detection pass
	Full         detect.Result
	IncrTime     time.Duration // an incremental pass right after it, at the same simulated time
	Incr         detect.Result
	SweepTime    time.Duration // a full pass again: the periodic sweep once breaches are recorded
	Sweep        detect.Result
	Touched      int           // dossiers rewritten through ApplyPage after the sweep: 1% of them
	TouchTime    time.Duration // ApplyPage of those, not the point of the benchmark
	ChangedTime  time.Duration // an incremental pass after them, at the same simulated time
	Changed      detect.Result
	PeakRSSBytes int64 // of this process, at the end of the full pass (fill included)
	// DetectRSSBytes is the peak RSS during the full pass alone (the high-water
	// mark reset before it); 0 where the kernel cannot reset it.
	DetectRSSBytes int64
}

// DetectRate is dossiers per second of the full detection pass.
func (e DetectEngine) DetectRate() float64 { return float64(e.Dossiers) / e.DetectTime.Seconds() }

// BaselineRate is dossiers per second of the plain SELECT.
func (e DetectEngine) BaselineRate() float64 { return float64(e.Dossiers) / e.BaselineTime.Seconds() }

// Detect fills a fresh store per engine with the simulator's dossiers (in
// process, through store.ApplyPage), then in the same run times a plain SELECT
// of what a full pass reads, the store's own scan, a full detection pass, an
// incremental one and a second full one, and prints the figures.
func Detect(ctx context.Context, o DetectOptions) ([]DetectEngine, error) {
	return eachFresh(ctx, o.Postgres, o.Dir, "bench-detect-", o.Keep, o.Out, func(name, driver, dsn string) (DetectEngine, error) {
		return detectEngine(ctx, o, name, driver, dsn)
	})
}

func detectEngine(ctx context.Context, o DetectOptions, name, driver, dsn string) (DetectEngine, error) {
	e := DetectEngine{Name: name}
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return e, err
	}
	defer db.Close()
	w := o.Out

	fillStart := time.Now()
	now, dir, err := fillFromSimulator(ctx, db, o)
	if err != nil {
		return e, fmt.Errorf("fill: %w", err)
	}
	e.FillTime = time.Since(fillStart)
	if e.Dossiers, err = db.CountDossiers(ctx); err != nil {
		return e, err
	}
	fmt.Fprintf(w, "%s: filled %d dossiers from the simulator (seed %d, simulated time %s) with ApplyPage in %s = %.0f dossiers/s\n",
		name, e.Dossiers, o.Seed, now.Format("2006-01-02 15:04 MST"), e.FillTime.Round(time.Millisecond), float64(e.Dossiers)/e.FillTime.Seconds())
	if driver == store.DriverPostgres {
		// What autovacuum does soon after a bulk load: set hint bits and the
		// visibility map and gather statistics, so that neither the baseline
		// nor the detector (whichever read first) pays for it.
		t0 := time.Now()
		if err := vacuumAnalyze(ctx, dsn); err != nil {
			return e, err
		}
		fmt.Fprintf(w, "%s: VACUUM (ANALYZE) of the dossier tables after the load: %s (not counted)\n", name, time.Since(t0).Round(time.Millisecond))
	}

	if e.BaselineRows, e.BaselineTime, err = rawScan(ctx, driver, dsn, DetectPageSize); err != nil {
		return e, fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(w, "%s: baseline: plain SQL SELECT of the same dossier, step, supplement and apology rows (%d rows; pages of %d in key order by (source, code) > (?, ?), one read transaction per page, children by primary-key range, values scanned as the driver returns them): %s = %.0f dossiers/s\n",
		name, e.BaselineRows, DetectPageSize, e.BaselineTime.Round(time.Millisecond), e.BaselineRate())

	t0 := time.Now()
	scanned := 0
	err = db.ScanDossiers(ctx, dvcwatch.ScanFilter{All: true}, DetectPageSize, func(p dvcwatch.ScannedPage) error {
		scanned += len(p.Dossiers)
		return nil
	})
	if err != nil {
		return e, fmt.Errorf("scan: %w", err)
	}
	e.ScanTime = time.Since(t0)
	fmt.Fprintf(w, "%s: store read path: db.ScanDossiers (full, pages of %d) with a no-op callback, %d dossiers: %s = %.0f dossiers/s; ratio to the baseline %.2f\n",
		name, DetectPageSize, scanned, e.ScanTime.Round(time.Millisecond), float64(scanned)/e.ScanTime.Seconds(), e.ScanTime.Seconds()/e.BaselineTime.Seconds())

	cfg, err := detectConfig(dir, driver, dsn, false)
	if err != nil {
		return e, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	svc, err := worker.New(cfg, db, log)
	if err != nil {
		return e, err
	}
	det := svc.Detector
	runtime.GC()
	debug.FreeOSMemory()
	resettable := resetPeakRSS()
	pass := func(label string, full bool) (detect.Result, time.Duration, error) {
		stop, err := StartCPUProfile(namedFile(o.CPUProfile, name, label))
		if err != nil {
			return detect.Result{}, 0, err
		}
		t0 := time.Now()
		res, err := det.Run(ctx, detect.Options{Now: now, Full: full, Holder: "bench"})
		elapsed := time.Since(t0)
		stop()
		if err != nil {
			return res, elapsed, fmt.Errorf("%s pass: %w", label, err)
		}
		if res.Full != full {
			return res, elapsed, fmt.Errorf("%s pass: ran as full=%t", label, res.Full)
		}
		return res, elapsed, nil
	}
	if e.Full, e.DetectTime, err = pass("full", true); err != nil {
		return e, err
	}
	if o.MemProfile != "" {
		if err := writeHeapProfile(namedFile(o.MemProfile, name)); err != nil {
			return e, err
		}
	}
	e.PeakRSSBytes = peakRSS()
	if resettable {
		e.DetectRSSBytes = hwmRSS()
	}
	fmt.Fprintf(w, "%s: full detection pass (first, fresh store): %d dossiers evaluated in %s = %.0f dossiers/s; breaches found %d (%s), alerts %d, emails %d, not evaluable %d; ratio detection/baseline %.2f; peak RSS %.0f MB (process, fill included), %s during the pass\n",
		name, e.Full.Evaluated, e.DetectTime.Round(time.Millisecond), e.DetectRate(), sum(e.Full.New), kinds(e.Full.New),
		e.Full.Alerts, e.Full.Notifications, e.Full.Unevaluable, e.DetectTime.Seconds()/e.BaselineTime.Seconds(),
		float64(e.PeakRSSBytes)/(1<<20), mb(e.DetectRSSBytes))

	if e.Incr, e.IncrTime, err = pass("incremental", false); err != nil {
		return e, err
	}
	fmt.Fprintf(w, "%s: second pass, incremental, same simulated time: %d dossiers evaluated (written since the last pass, or due by their next check) in %s = %.0f dossiers/s; new %d, updated %d, resolved %d, alerts %d, emails %d\n",
		name, e.Incr.Evaluated, e.IncrTime.Round(time.Millisecond), float64(e.Incr.Evaluated)/e.IncrTime.Seconds(),
		sum(e.Incr.New), e.Incr.Updated, e.Incr.Resolved, e.Incr.Alerts, e.Incr.Notifications)

	if e.Sweep, e.SweepTime, err = pass("sweep", true); err != nil {
		return e, err
	}
	fmt.Fprintf(w, "%s: third pass, full again (the periodic sweep: breaches already recorded), same simulated time: %d dossiers evaluated in %s = %.0f dossiers/s; new %d, updated %d, resolved %d, alerts %d, emails %d; ratio to the baseline %.2f\n",
		name, e.Sweep.Evaluated, e.SweepTime.Round(time.Millisecond), float64(e.Sweep.Evaluated)/e.SweepTime.Seconds(),
		sum(e.Sweep.New), e.Sweep.Updated, e.Sweep.Resolved, e.Sweep.Alerts, e.Sweep.Notifications,
		e.SweepTime.Seconds()/e.BaselineTime.Seconds())

	t0 = time.Now()
	if e.Touched, err = touchEvery(ctx, db, 100); err != nil {
		return e, fmt.Errorf("touch: %w", err)
	}
	e.TouchTime = time.Since(t0)
	if e.Changed, e.ChangedTime, err = pass("changed", false); err != nil {
		return e, err
	}
	fmt.Fprintf(w, "%s: fourth pass, incremental, same simulated time, after %d dossiers (1%%) were rewritten through ApplyPage (in %s, not counted): %d dossiers evaluated in %s; new %d, updated %d, resolved %d, alerts %d, emails %d; %.3f of the periodic sweep's time, %.3f of the baseline read's\n",
		name, e.Touched, e.TouchTime.Round(time.Millisecond), e.Changed.Evaluated, e.ChangedTime.Round(time.Millisecond),
		sum(e.Changed.New), e.Changed.Updated, e.Changed.Resolved, e.Changed.Alerts, e.Changed.Notifications,
		e.ChangedTime.Seconds()/e.SweepTime.Seconds(), e.ChangedTime.Seconds()/e.BaselineTime.Seconds())
	return e, nil
}

// touchEvery rewrites one stored dossier in every, through ApplyPage as a
// sync would (a minute later at the source, a new receipt number), and
// returns how many: the change an incremental pass must find.
func touchEvery(ctx context.Context, db *store.DB, every int) (int, error) {
	var page []dvcwatch.Dossier
	touched, seen := 0, 0
	flush := func() error {
		_, err := db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: page, ObservedBy: "onestop"})
		touched = len(page)
		return err
	}
	err := db.ScanDossiers(ctx, dvcwatch.ScanFilter{All: true}, DetectPageSize, func(p dvcwatch.ScannedPage) error {
		for _, d := range p.Dossiers {
			if seen++; seen%every != 0 {
				continue
			}
			d.PaymentWaits = nil // derived from the status history, not reported by the source
			d.SourceUpdatedAt = d.SourceUpdatedAt.Add(time.Minute)
			d.ReceiptNo += "-1"
			page = append(page, d)
		}
		return nil
	})
	if err != nil {
		return touched, err
	}
	return touched, flush() // one page: ApplyPage batches it

}

// fillFromSimulator writes the simulator's one-stop state into db, page by
// page with ApplyPage, and returns the simulated time and the directory. The
// simulator runs in this process and is dropped before detection.
func fillFromSimulator(ctx context.Context, db *store.DB, o DetectOptions) (time.Time, portalsim.Directory, error) {
	sim := portalsim.New(portalsim.Options{Seed: o.Seed, Dossiers: o.Dossiers, Start: o.Start})
	defer sim.Close()
	now, dir := sim.Now(), sim.Directory()
	pr, pw := io.Pipe()
	go func() { _ = pw.CloseWithError(sim.WriteState(pw, portalsim.OneStop)) }()
	err := applyState(ctx, db, pr, nil)
	_ = pr.CloseWithError(err) // stops the writer if the store failed first
	return now, dir, err
}

// applyState writes the one-stop dossiers of a simulator's state (its
// NDJSON, /sim/state) with ApplyPage in pages of DetectPageSize, decoding
// the next page while the last is stored; cursor, when set, is saved with
// every page, as a sync saves its own.
func applyState(ctx context.Context, db *store.DB, state io.Reader, cursor *store.Cursor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []dvcwatch.Dossier, 4)
	decodeErr := make(chan error, 1)
	go func() {
		defer close(pages)
		decodeErr <- readState(state, DetectPageSize, func(page []dvcwatch.Dossier) error {
			select {
			case pages <- page:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	for page := range pages {
		if _, err := db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: page, ObservedBy: "onestop", Cursor: cursor}); err != nil {
			cancel()
			for range pages {
			}
			return err
		}
	}
	return <-decodeErr
}

// readState decodes the one-stop dossiers of a simulator's state (its
// NDJSON, /sim/state) and gives them to fn pageSize at a time, each page a
// slice of its own.
func readState(state io.Reader, pageSize int, fn func([]dvcwatch.Dossier) error) error {
	sc := bufio.NewScanner(state)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	page := make([]dvcwatch.Dossier, 0, pageSize)
	for sc.Scan() {
		d, _, err := onestop.Decode("onestop", sc.Bytes())
		if err != nil {
			return fmt.Errorf("decode state: %w", err)
		}
		if page = append(page, d); len(page) == pageSize {
			if err := fn(page); err != nil {
				return err
			}
			page = make([]dvcwatch.Dossier, 0, pageSize)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(page) > 0 {
		return fn(page)
	}
	return nil
}

// getState asks the simulator at base for its one-stop state.
func getState(ctx context.Context, base string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sim/state?portal=onestop", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("simulator state: %s", resp.Status)
	}
	return resp, nil
}

// detectConfig is a configuration for the simulator's commune: its agency,
// people and procedures, defaults for the rest; mail at any hour unless
// officeHoursOnly.
func detectConfig(dir portalsim.Directory, driver, dsn string, officeHoursOnly bool) (*config.Config, error) {
	people, err := dir.ConfigYAML()
	if err != nil {
		return nil, err
	}
	y := people + `database:
  driver: ` + driver + `
  dsn: ` + strconv.Quote(dsn) + `
connectors:
  - name: onestop
    kind: onestop
    base_url: http://127.0.0.1:9
    username: bench
    password: bench
notify:
  office_hours_only: ` + strconv.FormatBool(officeHoursOnly) + `
  dossier_url: https://motcua.example/ho-so/{code}
smtp:
  host: 127.0.0.1
  from: canhbao@hoabinh.example
  tls: none
admin:
  tokens:
    - {name: bench, role: admin, token: 0123456789abcdef}
log:
  level: error
`
	return config.Parse([]byte(y), "bench.yaml")
}

func vacuumAnalyze(ctx context.Context, dsn string) error {
	x, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer x.Close()
	for _, t := range []string{"dossiers", "dossier_steps", "dossier_supplements", "dossier_apologies"} {
		if _, err := x.ExecContext(ctx, "VACUUM (ANALYZE) "+t); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return nil
}

// rawScan is the baseline: the rows a full detection pass reads (every
// dossier with its steps, supplements and apologies), read with plain SQL in
// the detector's page size and key order, one read-only transaction per page
// as the store does: the page by a row-value keyset condition on the primary
// key, its children by a range of theirs (the store lists the page's codes),
// each row scanned into the values the driver returns, nothing built from them.
func rawScan(ctx context.Context, driver, dsn string, pageSize int) (rows int, elapsed time.Duration, err error) {
	x, err := sqlx.Open(map[string]string{store.DriverSQLite: "sqlite", store.DriverPostgres: "pgx"}[driver], store.ConnectionDSN(driver, dsn))
	if err != nil {
		return 0, 0, err
	}
	defer x.Close()
	rebind := func(q string) string { return x.Rebind(q) }
	dossierQ := rebind(`SELECT ` + strings.Join(rawDossierColumns, ", ") + ` FROM dossiers
		WHERE (source, code) > (?, ?) ORDER BY source, code LIMIT ?`)
	childQ := func(table string, columns []string) string {
		return rebind(`SELECT code, ` + strings.Join(columns, ", ") + ` FROM ` + table +
			` WHERE source = ? AND code >= ? AND code <= ? ORDER BY code, seq`)
	}
	children := []string{
		childQ("dossier_steps", rawSteps.columns[2:]),
		childQ("dossier_supplements", rawSupplements.columns[2:]),
		childQ("dossier_apologies", rawApologies.columns[2:]),
	}
	var scan rowScanner
	start := time.Now()
	var after dvcwatch.DossierKey
	for {
		var keys []dvcwatch.DossierKey
		err := func() error {
			tx, err := x.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			r, err := tx.QueryContext(ctx, dossierQ, after.Source, after.Code, pageSize)
			if err != nil {
				return err
			}
			n, err := scan.all(r, func(v []any) {
				keys = append(keys, dvcwatch.DossierKey{Source: asString(v[0]), Code: asString(v[1])})
			})
			if err != nil {
				return err
			}
			rows += n
			// The page's key range, one per source.
			for lo := 0; lo < len(keys); {
				hi := lo
				for hi+1 < len(keys) && keys[hi+1].Source == keys[lo].Source {
					hi++
				}
				for _, q := range children {
					r, err := tx.QueryContext(ctx, q, keys[lo].Source, keys[lo].Code, keys[hi].Code)
					if err != nil {
						return err
					}
					n, err := scan.all(r, nil)
					if err != nil {
						return err
					}
					rows += n
				}
				lo = hi + 1
			}
			return nil
		}()
		if err != nil {
			return 0, 0, fmt.Errorf("read after %s: %w", after, err)
		}
		if len(keys) < pageSize {
			return rows, time.Since(start), nil
		}
		after = keys[len(keys)-1]
	}
}

// rawDossierColumns are the dossier columns the store's scan reads.
var rawDossierColumns = func() []string {
	var cols []string
	for _, c := range rawDossiers.columns {
		if c != "content_hash" && c != "first_seen_at" && c != "updated_at" {
			cols = append(cols, c)
		}
	}
	return cols
}()

// rowScanner scans rows into reused destinations of the driver's own types.
type rowScanner struct {
	vals []any
	ptrs []any
}

func (s *rowScanner) all(r *sql.Rows, each func([]any)) (int, error) {
	defer r.Close()
	cols, err := r.Columns()
	if err != nil {
		return 0, err
	}
	if len(s.vals) < len(cols) {
		s.vals = make([]any, len(cols))
		s.ptrs = make([]any, len(cols))
		for i := range s.vals {
			s.ptrs[i] = &s.vals[i]
		}
	}
	n := 0
	for r.Next() {
		if err := r.Scan(s.ptrs[:len(cols)]...); err != nil {
			return n, err
		}
		if each != nil {
			each(s.vals[:len(cols)])
		}
		n++
	}
	return n, r.Err()
}

func asString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return fmt.Sprint(v)
}

// StartCPUProfile profiles this process into path until the returned
// function is first called; an empty path profiles nothing.
func StartCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() { pprof.StopCPUProfile(); _ = f.Close() }), nil
}

// namedFile is path with names put before its extension, each after a dot
// (notify.prof, postgres: notify.postgres.prof); "" stays "".
func namedFile(path string, names ...string) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + strings.Join(names, ".") + ext
}

// writeHeapProfile writes the heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux 4.0+), so that hwmRSS then reports the peak of what follows.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// hwmRSS is VmHWM from /proc/self/status: the peak RSS since the last reset.
func hwmRSS() int64 { return procStatusBytes("VmHWM:") }

// procStatusBytes is a size field of /proc/self/status (in kB there), in
// bytes; 0 if the kernel does not give it.
func procStatusBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

func mb(b int64) string {
	if b == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func sum(m map[dvcwatch.BreachKind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// kinds lists the non-zero counts in the order of dvcwatch.BreachKinds.
func kinds(m map[dvcwatch.BreachKind]int) string {
	var parts []string
	for _, k := range dvcwatch.BreachKinds() {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
