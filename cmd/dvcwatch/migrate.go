package main

import (
	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/store"
)

func newMigrateCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations",
		Long: `Apply the database migrations built into this binary to the database the
configuration names (SQLite by default, or PostgreSQL). Running it again is a
no-op; the service also migrates at start-up. Several replicas may run it at
once on PostgreSQL: they take turns.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			db, err := store.Open(cmd.Context(), cfg.Database.Driver, cfg.Database.DSN.Reveal())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(cmd.Context()); err != nil {
				return err
			}
			cmd.Printf("database (%s): migrations applied\n", cfg.Database.Driver)
			return nil
		},
	}
	configFlag(cmd, &path, true)
	return cmd
}
