// Package bench measures dvcwatch against baselines taken in the same run, so
// that figures from a noisy machine still compare: a full sync from the portal
// simulator into each database against a raw multi-row upsert of the same rows
// into the same database.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/store"
)

// SyncOptions configure a sync benchmark.
type SyncOptions struct {
	Dossiers int
	Postgres string // PostgreSQL URL; each run uses fresh schemas and drops them; "" skips PostgreSQL
	Dir      string // where SQLite files go; "" skips SQLite
	PageSize int
	Exe      string // the dvcwatch binary that runs the simulator
	Out      io.Writer
}

// Engine is one database's figures.
type Engine struct {
	Name      string
	Dossiers  int
	SyncTime  time.Duration
	StoreTime time.Duration // of SyncTime, spent storing pages (ApplyPage)
	RawTime   time.Duration // database time of the baseline upserts, in the portal's pages
	RawRows   int           // dossier, step, supplement and apology rows the baseline wrote
	// RawKeyOrderTime is the database time of the same upserts of the rows
	// in code order (the simulator's state dump): a reference, not the
	// yardstick, that shows what the portal's scattered keys cost the engine.
	RawKeyOrderTime time.Duration
	// RawSyncRowsTime is the database time of the same upserts in the same
	// pages plus what only the sync writes of a new dossier (its next check,
	// its first status event): another reference, that shows how much of
	// the gap is rows the yardstick does not write.
	RawSyncRowsTime time.Duration
	PeakRSSBytes    int64 // of this process, at the end of the sync
}

// SyncRate is dossiers per second through the whole pipeline.
func (e Engine) SyncRate() float64 { return float64(e.Dossiers) / e.SyncTime.Seconds() }

// RawRate is dossiers per second of the raw upsert of the same rows in the
// same pages.
func (e Engine) RawRate() float64 { return float64(e.Dossiers) / e.RawTime.Seconds() }

// RawSyncRowsRate is dossiers per second of the raw upsert of the same
// pages with the rows only the sync writes.
func (e Engine) RawSyncRowsRate() float64 { return float64(e.Dossiers) / e.RawSyncRowsTime.Seconds() }

// RawKeyOrderRate is dossiers per second of the raw upsert of the same rows
// in code order.
func (e Engine) RawKeyOrderRate() float64 { return float64(e.Dossiers) / e.RawKeyOrderTime.Seconds() }

// Sync starts the simulator as a child process (so that its memory is not
// counted), then for each engine runs a full sync through the one-stop
// connector and the raw baseline, and prints the figures.
func Sync(ctx context.Context, o SyncOptions) ([]Engine, error) {
	base, stop, err := startSimulator(ctx, o.Exe, o.Dossiers)
	if err != nil {
		return nil, err
	}
	defer stop()
	fmt.Fprintf(o.Out, "simulator: %d dossiers at %s (separate process)\n", o.Dossiers, base)

	targets, err := engines(o.Postgres, o.Dir)
	if err != nil {
		return nil, err
	}
	var cleanups []func()
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	fresh := func(t engine) (string, error) {
		dsn, drop, err := t.fresh(ctx, o.Postgres, o.Dir, "bench-")
		cleanups = append(cleanups, drop)
		return dsn, err
	}

	var out []Engine
	for _, t := range targets {
		e := Engine{Name: t.name}
		dsn, err := fresh(t)
		if err != nil {
			return out, err
		}
		if e.Dossiers, e.SyncTime, e.StoreTime, err = runSync(ctx, t.driver, dsn, base, o.PageSize); err != nil {
			return out, fmt.Errorf("%s sync: %w", t.name, err)
		}
		e.PeakRSSBytes = peakRSS()
		for i, raw := range []struct {
			name     string
			pages    pageSource
			syncRows bool
			time     *time.Duration
		}{
			{"the portal's pages", portalPages, false, &e.RawTime},
			{"the portal's pages with the sync's own rows", portalPages, true, &e.RawSyncRowsTime},
			{"the state dump", statePages, false, &e.RawKeyOrderTime},
		} {
			rawDSN, err := fresh(t)
			if err != nil {
				return out, err
			}
			rows, elapsed, err := rawUpsert(ctx, t.driver, rawDSN, raw.syncRows, func(fn func([]dvcwatch.Dossier) error) error {
				return raw.pages(ctx, base, o.PageSize, fn)
			})
			if err != nil {
				return out, fmt.Errorf("%s baseline: %w", t.name, err)
			}
			if i > 0 && rows != e.RawRows {
				return out, fmt.Errorf("%s baseline: %s gave %d rows, the portal's pages %d", t.name, raw.name, rows, e.RawRows)
			}
			e.RawRows, *raw.time = rows, elapsed
		}
		fmt.Fprintf(o.Out, "%s: sync %d dossiers in %s (%s storing) = %.0f dossiers/s; raw multi-row upsert of the same %d rows in the same pages %.0f dossiers/s (%s of database time); ratio %.2f; peak RSS %.0f MB\n",
			e.Name, e.Dossiers, e.SyncTime.Round(time.Millisecond), e.StoreTime.Round(time.Millisecond), e.SyncRate(), e.RawRows, e.RawRate(),
			e.RawTime.Round(time.Millisecond), e.SyncRate()/e.RawRate(), float64(e.PeakRSSBytes)/(1<<20))
		fmt.Fprintf(o.Out, "%s: reference: the same raw upsert in the same pages plus what only the sync writes of a new dossier (its next check, its first status event) %.0f dossiers/s (%s); sync ÷ that %.2f\n",
			e.Name, e.RawSyncRowsRate(), e.RawSyncRowsTime.Round(time.Millisecond), e.SyncRate()/e.RawSyncRowsRate())
		fmt.Fprintf(o.Out, "%s: reference: the same raw upsert of the rows in code order (the simulator's state dump) %.0f dossiers/s (%s); in the portal's pages it runs at %.2f of that, the engine's own cost of keys scattered by the order of change; sync ÷ raw in code order %.2f\n",
			e.Name, e.RawKeyOrderRate(), e.RawKeyOrderTime.Round(time.Millisecond), e.RawRate()/e.RawKeyOrderRate(), e.SyncRate()/e.RawKeyOrderRate())
		out = append(out, e)
	}
	return out, nil
}

func runSync(ctx context.Context, driver, dsn, base string, pageSize int) (n int, total, storing time.Duration, err error) {
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return 0, 0, 0, err
	}
	defer db.Close()
	client, err := onestop.New(benchConnector(base, pageSize), httpx.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	res, err := ingest.Run(ctx, db, "onestop", client, ingest.Options{
		Since: time.Unix(0, 0), Holder: "bench", Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return 0, 0, 0, err
	}
	total = time.Since(start)
	if n, err = db.CountDossiers(ctx); err != nil {
		return 0, 0, 0, err
	}
	if n != res.Inserted {
		return 0, 0, 0, fmt.Errorf("stored %d dossiers but inserted %d", n, res.Inserted)
	}
	return n, total, res.StoreTime, nil
}

func benchConnector(base string, pageSize int) config.Connector {
	return config.Connector{
		Name: "onestop", Kind: config.KindOneStop, BaseURL: base,
		Username: portalsim.DefaultUsername, Password: config.NewSecret(portalsim.DefaultPassword),
		Timeout: time.Minute, RateLimit: 1e6, Burst: 1000, PageSize: pageSize, MaxRetries: 3,
	}
}

// rawUpsert is the baseline: the pages that pages gives, decoded outside
// the timer, upserted with hand-written multi-row INSERT … ON CONFLICT
// statements, one transaction per page, into a fresh copy of the schema. It
// writes the same dossier, step, supplement and apology rows the sync writes,
// without what makes the sync safe to repeat (no read of stored hashes, no
// cursor) and, unless syncRows, without the next checks and status events
// the sync also writes. Only database time is counted.
func rawUpsert(ctx context.Context, driver, dsn string, syncRows bool, pages func(func([]dvcwatch.Dossier) error) error) (rows int, dbTime time.Duration, err error) {
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return 0, 0, err
	}
	_ = db.Close()
	x, err := sqlx.Open(map[string]string{store.DriverSQLite: "sqlite", store.DriverPostgres: "pgx"}[driver], store.ConnectionDSN(driver, dsn))
	if err != nil {
		return 0, 0, err
	}
	defer x.Close()
	w := newRawWriter(driver, x, syncRows)
	err = pages(func(page []dvcwatch.Dossier) error {
		t0 := time.Now()
		n, err := w.write(ctx, page)
		dbTime += time.Since(t0)
		rows += n
		return err
	})
	return rows, dbTime, err
}

// pageSource gives the simulator's dossiers at base to fn, pageSize at a time.
type pageSource func(ctx context.Context, base string, pageSize int, fn func([]dvcwatch.Dossier) error) error

// portalPages gives the simulator's dossiers in the pages the one-stop
// connector receives them, in the portal's order of change: what the sync
// writes, page for page. The yardstick's rows and order are the sync's.
func portalPages(ctx context.Context, base string, pageSize int, fn func([]dvcwatch.Dossier) error) error {
	client, err := onestop.New(benchConnector(base, pageSize), httpx.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	return client.Pull(ctx, connectors.Cursor{UpdatedAt: time.Unix(0, 0)}, func(_ context.Context, b connectors.Batch) error {
		if len(b.Skipped) > 0 {
			return fmt.Errorf("the connector skipped %d records (first: %s)", len(b.Skipped), b.Skipped[0].Reason)
		}
		return fn(b.Dossiers)
	})
}

// statePages gives the simulator's dossiers from its state dump, in code
// order, pageSize at a time.
func statePages(ctx context.Context, base string, pageSize int, fn func([]dvcwatch.Dossier) error) error {
	resp, err := getState(ctx, base)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return readState(resp.Body, pageSize, fn)
}

// startSimulator runs `exe portalsim` on a free loopback port with the
// dossiers, seed 1 and the extra flags, and waits until it answers.
func startSimulator(ctx context.Context, exe string, dossiers int, extra ...string) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	args := append([]string{"portalsim", "--listen", addr, "--dossiers", strconv.Itoa(dossiers), "--seed", "1"}, extra...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start simulator: %w", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	base = "http://" + addr
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/sim/stats"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
		select {
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	stop()
	return "", nil, fmt.Errorf("simulator at %s did not answer within 5 minutes", addr)
}

// freshSchema creates an empty schema in the PostgreSQL database and returns a
// DSN that uses it, with a function that drops it.
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	admin, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return "", func() {}, err
	}
	schema := "bench_" + randomName()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		return "", func() {}, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", drop, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema) // finds its backends in pg_stat_activity (cpuScope)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// peakRSS is this process's peak resident set size.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}
