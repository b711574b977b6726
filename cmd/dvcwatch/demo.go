package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/demo"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
)

func newDemoCommand() *cobra.Command {
	var (
		o                        demo.Options
		listen, faults, logLevel string
		duration                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the real jobs on short schedules against an embedded stack, in one process",
		Long: `Run dvcwatch as serve does, with nothing to install: a SQLite file in --data,
Redis in process, the portal simulator on loopback (a commune's one-stop system
and the national portal mirroring it), and an SMTP catcher on loopback as the
mail server. The simulated time starts at the wall clock and moves --speed
minutes every second; every job judges dossiers by it, so deadlines pass while
you watch. The schedules are short: sync one-stop every 10s, DVCQG every 15s,
reconcile every 30s, detect every 15s, re-enqueue undelivered emails every
10s, the office's digest every minute (one per simulated day). Emails go out
at any hour, since simulated time races through nights.

It prints where to look (the admin UI, the login token made for this run, the
mail catcher, the data directory, the log file), then one line per job run at
simulated time (Asia/Ho_Chi_Minh), and when it stops (after --for, or on
SIGINT or SIGTERM) the summary as its last line:

  summary: dossiers=N events=N breaches=N emails=N failed_jobs=N

dossiers counts the stored copies from both portals; emails, the messages the
catcher accepted; failed_jobs, failed job runs plus failed tasks still open.

The in-process Redis keeps nothing: tasks still queued at exit are lost.
That is safe because the outbox in SQL is the record of every email: the
dispatcher hands the queue every undelivered row at start and on its schedule.
The data directory (temporary unless --data or --keep) keeps the database and,
when kept, the caught emails as .eml files and the log (dvcwatch.log). The log
of a temporary directory is written beside it (/tmp/dvcwatch-demo-N.log) and
kept; --verbose prints it on stderr instead.`,
		Example: `  dvcwatch demo --for 2m
  dvcwatch demo --dossiers 20000 --speed 60 --listen 127.0.0.1:0
  dvcwatch demo --data ./demo --faults none`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("demo takes no arguments, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if duration < 0 {
				return usageErrorf("--for %s: want a positive duration, or 0 to run until interrupted", duration)
			}
			if o.Dossiers < 1 {
				return usageErrorf("--dossiers %d: want 1 or more", o.Dossiers)
			}
			if o.Speed < 1 || o.Speed > 24*60 {
				return usageErrorf("--speed %d: want 1 to 1440 simulated minutes per second", o.Speed)
			}
			switch faults {
			case "light":
				f := demo.LightFaults()
				o.Faults = &f
			case "none":
				o.Faults = &portalsim.Faults{}
			default:
				return unknownValue("--faults", faults, "fault profile", []string{"light", "none"})
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return unknownValue("--log-level", logLevel, "log level", config.LogLevels)
			}
			if err := o.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			o.LogLevel, o.Stderr = level, cmd.ErrOrStderr()
			o.Out = cmd.OutOrStdout()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen %s: %w (port 0 picks a free one)", listen, err)
			}
			defer ln.Close() // the admin server closes it; this covers an early return
			o.AdminListener = ln
			ctx := cmd.Context()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			_, err = demo.Run(ctx, o)
			if errors.Is(err, demo.ErrDirInUse) {
				return usageErrorf("--data %s: %v", o.Dir, demo.ErrDirInUse)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "data", "", "data directory for the SQLite file (default: a new temporary directory, removed at exit unless --keep)")
	f.BoolVar(&o.Keep, "keep", false, "keep the temporary data directory (database and caught emails) at exit")
	f.IntVar(&o.Dossiers, "dossiers", demo.DefaultDossiers, "dossiers the simulated commune received in the last 90 days; they keep arriving at that rate")
	f.IntVar(&o.Speed, "speed", demo.DefaultSpeed, "simulated minutes per wall-clock second")
	f.Int64Var(&o.Seed, "seed", 1, "seed of the simulated population and of the fault draws")
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "address of the admin API and UI (host:port; port 0 picks one)")
	f.StringVar(&faults, "faults", "light", "portal faults: light (a few failed or broken requests, retried; bad records, skipped; dossiers missing or late on DVCQG) or none")
	f.DurationVar(&duration, "for", 0, "stop after this long (default: until SIGINT or SIGTERM)")
	f.StringVar(&logLevel, "log-level", "warn", "least level logged (portal retries are warnings)")
	f.BoolVar(&o.Verbose, "verbose", false, "print the log on stderr, between the job lines, instead of into the log file the header names")
	return cmd
}
