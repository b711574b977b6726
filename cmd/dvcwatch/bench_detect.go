package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/internal/bench"
)

// benchDetectStart is the default simulated time of bench detect: a Tuesday
// morning in office hours, fixed so that runs find the same breaches.
const benchDetectStart = "2026-11-24 09:00"

// simBench are the flags of the benchmarks that fill a fresh store per
// engine from the simulator and judge it at a simulated time.
type simBench struct {
	dossiers      int
	seed          int64
	start         string
	postgres, dir string
	keep, sqlite  bool
}

// register adds the flags; now says what the simulated time is for.
func (b *simBench) register(cmd *cobra.Command, now string) {
	cmd.Flags().IntVar(&b.dossiers, "dossiers", 1_000_000, "dossiers the simulator generates")
	cmd.Flags().Int64Var(&b.seed, "seed", 1, "the simulator's seed")
	cmd.Flags().StringVar(&b.start, "start", benchDetectStart, `simulated time, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh): `+now)
	cmd.Flags().StringVar(&b.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", `PostgreSQL URL (a fresh schema is created and dropped); "" skips PostgreSQL`)
	cmd.Flags().StringVar(&b.dir, "sqlite-dir", "", "directory for the SQLite file (default: a temporary one)")
	cmd.Flags().BoolVar(&b.keep, "keep", false, "keep the PostgreSQL schema and the SQLite file for inspection (printed at the end)")
	cmd.Flags().BoolVar(&b.sqlite, "sqlite", true, "run on SQLite too")
}

// resolve checks the flags and returns the simulated time and where the
// SQLite files go ("" when --sqlite is off): --sqlite-dir, else a
// temporary directory that cleanup removes unless --keep.
func (b *simBench) resolve() (at time.Time, dir string, cleanup func(), err error) {
	if b.dossiers < 1 {
		return at, "", nil, usageErrorf("--dossiers %d: want at least 1", b.dossiers)
	}
	if at, err = parseMinute("--start", b.start); err != nil {
		return at, "", nil, err
	}
	switch {
	case !b.sqlite:
		return at, "", func() {}, nil
	case b.dir != "":
		return at, b.dir, func() {}, nil
	}
	if dir, err = os.MkdirTemp("", "dvcwatch-bench-"); err != nil {
		return at, "", nil, err
	}
	if b.keep {
		return at, dir, func() {}, nil
	}
	return at, dir, func() { _ = os.RemoveAll(dir) }, nil
}

func newBenchDetectCommand() *cobra.Command {
	var (
		b          simBench
		cpuProfile string
		memProfile string
	)
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Full detection pass over simulated dossiers in PostgreSQL and SQLite, against a plain SELECT",
		Long: `For each database, fill a fresh store with the portal simulator's dossiers
(generated in this process and written with ApplyPage), then in the same run:
a plain SQL SELECT of every dossier with its steps, supplements and apologies
in the detector's page size and key order (the baseline); the store's own read
path (ScanDossiers with a no-op callback); a full detection pass at the
simulated time with a configuration built from the simulator's directory
(mail at any hour); and an incremental pass right after it. Prints times,
dossiers per second, breaches found, the ratio detection/baseline and peak RSS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at, dir, cleanup, err := b.resolve()
			if err != nil {
				return err
			}
			defer cleanup()
			_, err = bench.Detect(cmd.Context(), bench.DetectOptions{
				Dossiers: b.dossiers, Postgres: b.postgres, Dir: dir, Seed: b.seed, Start: at,
				CPUProfile: cpuProfile, MemProfile: memProfile, Keep: b.keep, Out: cmd.OutOrStdout(),
			})
			return err
		},
	}
	b.register(cmd, "the detection's now")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of each detection pass (only those) to this file, with the engine's and the pass's names before the extension")
	cmd.Flags().StringVar(&memProfile, "memprofile", "", "write a heap profile at the end of the first full pass (what it holds, and what the process allocated so far) to this file, with the engine's name before the extension")
	return cmd
}

func newBenchNotifyCommand() *cobra.Command {
	var (
		emails, concurrency, redisDB, composeDossiers int
		redisAddr, postgres, dir, cpuProfile          string
	)
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Outbox → asynq → SMTP delivery of N emails, against raw asynq on the same Redis",
		Long: `On a real Redis (a dedicated database, flushed first): enqueue N trivial asynq
tasks into a running server and time until all are processed (the baseline);
then for each database put N rendered digests in a fresh outbox, dispatch them
(notify.Dispatcher with jobs.Enqueuer) to an asynq server of the same
concurrency running the worker's handlers (jobs.Handlers, notify.Deliverer, a
real email.Sender) that delivers them over SMTP to a sink on loopback, and time
until the outbox says all are sent. Prints both rates and their ratio, then
times composing the digests (notify.Service.Notify) for a store where detection left alerts pending.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if emails < 1 {
				return usageErrorf("--emails %d: want at least 1", emails)
			}
			if concurrency < 1 {
				return usageErrorf("--concurrency %d: want at least 1", concurrency)
			}
			if composeDossiers < 0 {
				return usageErrorf("--compose-dossiers %d: want 0 (skip) or more", composeDossiers)
			}
			if cpuProfile != "" {
				if st, err := os.Stat(filepath.Dir(cpuProfile)); err != nil || !st.IsDir() {
					return usageErrorf("--cpuprofile %s: its directory does not exist", cpuProfile)
				}
			}
			var err error
			if dir == "" {
				if dir, err = os.MkdirTemp("", "dvcwatch-bench-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			}
			_, err = bench.Notify(cmd.Context(), bench.NotifyOptions{
				Emails: emails, Redis: redisAddr, RedisDB: redisDB, Concurrency: concurrency,
				Postgres: postgres, Dir: dir, ComposeDossiers: composeDossiers, Seed: 1, CPUProfile: cpuProfile, Out: cmd.OutOrStdout(),
			})
			return err
		},
	}
	cmd.Flags().IntVar(&emails, "emails", 2000, "notifications to deliver (and trivial tasks in the baseline)")
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "asynq server concurrency of both runs (the worker's is 4)")
	cmd.Flags().StringVar(&redisAddr, "redis", "127.0.0.1:6379", "Redis host:port")
	cmd.Flags().IntVar(&redisDB, "redis-db", 15, "Redis database number, FLUSHED before each measurement")
	cmd.Flags().IntVar(&composeDossiers, "compose-dossiers", 20000, "simulated dossiers of the composition step; 0 skips it")
	cmd.Flags().StringVar(&postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", `PostgreSQL URL for the outbox (fresh schemas are created and dropped); "" skips PostgreSQL`)
	cmd.Flags().StringVar(&dir, "sqlite-dir", "", "directory for the SQLite files (default: a temporary one)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process during each pipeline (only those) to this file, with the engine's name before the extension")
	return cmd
}
