package main

import (
	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/worker"
)

func newServeCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the worker and the scheduler until SIGTERM",
		Long: `Run the job worker and the scheduler against the configured database and
Redis. Several replicas may run at once on the same database and Redis: each
schedule tick is enqueued once, and one connector is never synced by two tasks
at once. On SIGTERM or SIGINT no new task is taken and running ones get
shutdown_timeout to finish before they are handed back to the queue.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			rdb, err := worker.OpenRedis(cfg.Redis)
			if err != nil {
				return err
			}
			defer rdb.Close()
			svc, err := openServices(cmd, cfg, worker.WithRedis(rdb))
			if err != nil {
				return err
			}
			defer svc.Close()
			return worker.Run(cmd.Context(), svc)
		},
	}
	configFlag(cmd, &path, true)
	return cmd
}
