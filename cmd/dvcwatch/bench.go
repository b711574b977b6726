package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/internal/bench"
)

func newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure dvcwatch against baselines taken in the same run",
	}
	var (
		dossiers, pageSize int
		postgres, dir      string
		cpuProfile         string
		withSQLite         bool
	)
	syncCmd := &cobra.Command{
		Use:   "sync",
		Short: "Full sync from the portal simulator into PostgreSQL and SQLite, against a raw upsert",
		Long: `Start the portal simulator as a separate process on loopback, then for each
database run a full sync through the one-stop connector (HTTP, JSON, mapping,
hashing, status events, cursor) and, in the same run, a raw multi-row upsert of
the same rows in the same pages (as the connector receives them, in the
portal's order of change) into a fresh copy of the schema. Prints dossiers per
second of both, their ratio, and this process's peak RSS at the end of the
sync; then, for reference, the raw upsert of the same pages with what only
the sync writes of a new dossier (its next check, its first status event),
which shows how much of the gap those rows are, and the raw upsert of the
rows in code order, which shows what the portal's scattered keys cost the
engine itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dossiers < 1 {
				return usageErrorf("--dossiers %d: want at least 1", dossiers)
			}
			if pageSize < 1 || pageSize > 1000 {
				return usageErrorf("--page-size %d: want 1 to 1000 (the one-stop API's limit)", pageSize)
			}
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			if !withSQLite {
				dir = ""
			} else if dir == "" {
				if dir, err = os.MkdirTemp("", "dvcwatch-bench-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			}
			_, err = bench.Sync(cmd.Context(), bench.SyncOptions{
				Dossiers: dossiers, Postgres: postgres, Dir: dir, PageSize: pageSize, Exe: exe, Out: cmd.OutOrStdout(),
			})
			return err
		},
	}
	syncCmd.Flags().IntVar(&dossiers, "dossiers", 1_000_000, "dossiers the simulator holds")
	syncCmd.Flags().IntVar(&pageSize, "page-size", 1000, "dossiers per page (and per transaction)")
	syncCmd.Flags().StringVar(&postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", `PostgreSQL URL (fresh schemas are created and dropped); "" skips PostgreSQL`)
	syncCmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (not the simulator) to this file")
	syncCmd.Flags().StringVar(&dir, "sqlite-dir", "", "directory for the SQLite files (default: a temporary one)")
	syncCmd.Flags().BoolVar(&withSQLite, "sqlite", true, "run on SQLite too")
	cmd.AddCommand(syncCmd, newBenchDetectCommand(), newBenchNotifyCommand(), newBenchReportCommand(), newBenchSoakCommand())
	return cmd
}

// startCPUProfile is bench.StartCPUProfile with its error named after the
// flag: a path that cannot be written is the user's to fix.
func startCPUProfile(path string) (func(), error) {
	stop, err := bench.StartCPUProfile(path)
	if err != nil {
		return nil, usageErrorf("--cpuprofile: %v", err)
	}
	return stop, nil
}
