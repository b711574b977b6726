package main

import (
	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/internal/bench"
)

func newBenchReportCommand() *cobra.Command {
	var (
		b    simBench
		runs int
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
			if runs < 1 {
				return usageErrorf("--runs %d: want at least 1", runs)
			}
			at, dir, cleanup, err := b.resolve()
			if err != nil {
				return err
			}
			defer cleanup()
			_, err = bench.Report(cmd.Context(), bench.ReportOptions{
				Dossiers: b.dossiers, Postgres: b.postgres, Dir: dir, Seed: b.seed, Start: at, Runs: runs, Keep: b.keep,
				Out: cmd.OutOrStdout(),
			})
			return err
		},
	}
	b.register(cmd, "the detection's now; the month before is reported")
	cmd.Flags().IntVar(&runs, "runs", 5, "timed runs of each side; the best of each is compared")
	return cmd
}
