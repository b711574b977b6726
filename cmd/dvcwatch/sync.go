package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/worker"
)

func newSyncCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Pull dossiers from the portals into the store",
	}
	var path, connector, since string
	run := &cobra.Command{
		Use:   "run",
		Short: "Run one sync pass in this process and print what it stored",
		Long: `Run one sync pass of every configured connector (or --connector NAME) in this
process: pull the dossiers changed since the stored cursor, store them page by
page with the cursor, and print per connector the counts fetched, inserted,
updated, unchanged, stale, events, skipped (with reasons) and the new cursor.

--since backfills from a date instead of the stored cursor; the cursor never
moves backwards. A connector's first pass reaches back 92 days.`,
		Example: `  dvcwatch sync run --config dvcwatch.yaml
  dvcwatch sync run --config dvcwatch.yaml --connector dvcqg --since 2026-10-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			var from time.Time
			if since != "" {
				if from, err = parseSince(since); err != nil {
					return err
				}
			}
			names, err := connectorNames(cfg, connector)
			if err != nil {
				return err
			}
			svc, err := openServices(cmd, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			host, _ := os.Hostname()
			var failed []string
			for _, name := range names {
				// A run by hand: its success lifts a stop after a permanent
				// failure, as the admin API's run now does.
				res, err := svc.Sync(cmd.Context(), name, ingest.Options{Since: from, Holder: "sync run on " + host,
					Done: func(ctx context.Context, err error) { svc.Health.Record(ctx, name, err) }})
				printSyncResult(cmd.OutOrStdout(), res)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "  error: %v\n", err)
					failed = append(failed, name)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("sync failed for %s (what was stored before the failure is kept; the next pass resumes there)", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	configFlag(run, &path, true)
	run.Flags().StringVar(&connector, "connector", "", "sync only this connector (default: all)")
	run.Flags().StringVar(&since, "since", "", `backfill from this date, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh)`)
	cmd.AddCommand(run)
	return cmd
}

func connectorNames(cfg *config.Config, only string) ([]string, error) {
	var names []string
	for _, k := range cfg.Connectors {
		if only == "" || k.Name == only {
			names = append(names, k.Name)
		}
	}
	switch {
	case only != "" && len(names) == 0:
		var all []string
		for _, k := range cfg.Connectors {
			all = append(all, k.Name)
		}
		return nil, unknownValue("--connector", only, "connector", all)
	case len(names) == 0:
		return nil, usageErrorf("the configuration has no connectors to sync")
	}
	return names, nil
}

func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{minuteLayout, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), sla.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("--since %q: want \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM\" (Asia/Ho_Chi_Minh)", s)
}

func printSyncResult(w io.Writer, r ingest.Result) {
	fmt.Fprintf(w, "%s: fetched=%d inserted=%d updated=%d unchanged=%d stale=%d events=%d skipped=%d batches=%d\n",
		r.Connector, r.Fetched, r.Inserted, r.Updated, r.Unchanged, r.Stale, r.Events, r.SkippedTotal(), r.Batches)
	causes := make([]string, 0, len(r.Skipped))
	for c := range r.Skipped {
		causes = append(causes, c)
	}
	sort.Strings(causes)
	for _, c := range causes {
		fmt.Fprintf(w, "  skipped %d: %s\n", r.Skipped[c], c)
	}
	for _, s := range r.SkipSamples {
		fmt.Fprintf(w, "  skipped %s: %s\n", orDash(s.Code), s.Reason)
	}
	cursor := "none"
	if !r.Cursor.UpdatedAt.IsZero() {
		cursor = r.Cursor.UpdatedAt.In(sla.Location()).Format("2006-01-02 15:04:05")
		if r.Cursor.Key != "" {
			cursor += " " + r.Cursor.Key
		}
	}
	fmt.Fprintf(w, "  cursor: %s\n", cursor)
}

func orDash(s string) string {
	if s == "" {
		return "(no code)"
	}
	return s
}

// openServices opens the store and the connectors, logging to the command's
// stderr as the configuration asks.
func openServices(cmd *cobra.Command, cfg *config.Config, opts ...worker.Option) (*worker.Services, error) {
	return worker.Open(cmd.Context(), cfg, newLogger(cfg, cmd.ErrOrStderr()), opts...)
}

// newLogger logs to w (stderr) as the configuration asks.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
