package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/internal/bench"
)

func newBenchReportCommand() *cobra.Command {
	var (
		dossiers, runs int
		seed           int64
		postgres, dir  string
		start          string
		keep, sqlite   bool
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "A month's results of one agency at every level, against hand-written GROUP BYs of the same counts",
		Long: `For each database, fill a fresh store with the portal simulator's dossiers,
record their verdicts with a full detection pass at the simulated time, then
time the results of the month before it for the simulator's agency at every
level (agency, department, official, procedure: report.Build over
store.Tallies) against hand-written GROUP BY statements of the same counts
over the same tables, in the same run; check both give the same numbers and
print the best time of each over --runs, their ratio and the peak RSS. The
tables are not analysed first: the plans must not need statistics.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dossiers < 1 {
				return usageErrorf("--dossiers %d: want at least 1", dossiers)
			}
			if runs < 1 {
				return usageErrorf("--runs %d: want at least 1", runs)
			}
			at, err := parseMinute("--start", start)
			if err != nil {
				return err
			}
			switch {
			case !sqlite:
				dir = ""
			case dir == "":
				if dir, err = os.MkdirTemp("", "dvcwatch-bench-"); err != nil {
					return err
				}
				if !keep {
					defer os.RemoveAll(dir)
				}
			}
			_, err = bench.Report(cmd.Context(), bench.ReportOptions{
				Dossiers: dossiers, Postgres: postgres, Dir: dir, Seed: seed, Start: at, Runs: runs, Keep: keep, Out: cmd.OutOrStdout(),
			})
			return err
		},
	}
	cmd.Flags().IntVar(&dossiers, "dossiers", 1_000_000, "dossiers the simulator generates")
	cmd.Flags().IntVar(&runs, "runs", 5, "timed runs of each side; the best of each is compared")
	cmd.Flags().Int64Var(&seed, "seed", 1, "the simulator's seed")
	cmd.Flags().StringVar(&start, "start", benchDetectStart, `simulated time, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh): the detection's now; the month before is reported`)
	cmd.Flags().StringVar(&postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", `PostgreSQL URL (a fresh schema is created and dropped); "" skips PostgreSQL`)
	cmd.Flags().StringVar(&dir, "sqlite-dir", "", "directory for the SQLite file (default: a temporary one)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the PostgreSQL schema and the SQLite file for inspection (printed at the end)")
	cmd.Flags().BoolVar(&sqlite, "sqlite", true, "run on SQLite too")
	return cmd
}
