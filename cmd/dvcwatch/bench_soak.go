package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/internal/bench"
)

func newBenchSoakCommand() *cobra.Command {
	var (
		o   bench.SoakOptions
		dir string
	)
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Serve's schedules against the simulator with time moving: RSS over time, pass durations, queue latency",
		Long: `Start the portal simulator as a separate process, fill a fresh store with its
one-stop dossiers (ApplyPage, cursor saved), then run serve's worker
(scheduler, sync through the one-stop connector, detection passes incremental
and full, dispatch, digest, delivery over SMTP to a sink on loopback) for
--for while the simulated time moves --speed minutes each second, so that
syncs bring changes and detection has work. Prints this process's RSS every
--sample, then each job's pass durations (min/median/max), the queue latency
of scheduled runs (tick → start), the emails delivered, and whether memory
stayed flat after the warm-up (the last half's peak within 10% of the first
quarter's, and the RSS slope in MB/min).

SQLite and the in-process Redis by default (demo's stack); --postgres and
--redis use PostgreSQL (a fresh schema, dropped after) and a real Redis
(database --redis-db, FLUSHED first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case o.Dossiers < 1:
				return usageErrorf("--dossiers %d: want at least 1", o.Dossiers)
			case o.For < 10*time.Second:
				return usageErrorf("--for %s: want at least 10s", o.For)
			case o.Speed < 1 || o.Speed > 24*60:
				return usageErrorf("--speed %d: want 1 to 1440 simulated minutes per second", o.Speed)
			case o.Sample < time.Second:
				return usageErrorf("--sample %s: want at least 1s", o.Sample)
			case o.Intervals.FullSweep != 0 && o.Intervals.FullSweep < time.Second:
				return usageErrorf("--full-sweep-every %s: want 0 (the default) or at least 1s", o.Intervals.FullSweep)
			case o.Warmup < 0 || o.Warmup >= o.For:
				return usageErrorf("--warmup %s: want 0 (a fifth of --for) up to less than --for", o.Warmup)
			}
			var err error
			if o.Exe, err = os.Executable(); err != nil {
				return err
			}
			if o.Dir = dir; o.Postgres == "" && dir == "" {
				if o.Dir, err = os.MkdirTemp("", "dvcwatch-soak-"); err != nil {
					return err
				}
				defer os.RemoveAll(o.Dir)
			}
			o.Out = cmd.OutOrStdout()
			_, err = bench.Soak(cmd.Context(), o)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Dossiers, "dossiers", 1_000_000, "dossiers the simulator holds (received in its last 90 days)")
	f.DurationVar(&o.For, "for", 10*time.Minute, "how long the schedules run after the fill")
	f.DurationVar(&o.Warmup, "warmup", 0, "left out of the memory verdict (default a fifth of --for)")
	f.DurationVar(&o.Sample, "sample", 10*time.Second, "between RSS samples")
	f.IntVar(&o.Speed, "speed", 10, "simulated minutes per wall second")
	f.DurationVar(&o.Intervals.FullSweep, "full-sweep-every", 0, "detect.full_sweep_every: a detection pass this long after the last full sweep is one (default a quarter of the time after the warm-up, so that both halves the memory verdict compares hold sweeps)")
	f.StringVar(&o.Postgres, "postgres", "", `PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable (a fresh schema, dropped after); "": SQLite`)
	f.StringVar(&dir, "sqlite-dir", "", "directory for the SQLite file (default: a temporary one)")
	f.StringVar(&o.Redis, "redis", "", `Redis host:port, e.g. 127.0.0.1:6379; "": the embedded in-process Redis`)
	f.IntVar(&o.RedisDB, "redis-db", 13, "Redis database number with --redis, FLUSHED first")
	f.StringVar(&o.MemProfile, "memprofile", "", "write a heap profile when the schedules stop (what is still live) to this file")
	return cmd
}
