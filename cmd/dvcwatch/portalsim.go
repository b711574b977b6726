package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
)

func newPortalsimCommand() *cobra.Command {
	var (
		listen, start, logLevel string
		opts                    = portalsim.Options{}
		faults                  = portalsim.DefaultFaults()
		outOfOrder              float64
		autoEvery               time.Duration
		autoMinutes             int
	)
	cmd := &cobra.Command{
		Use:   "portalsim",
		Short: "Simulate the national portal (DVCQG) and the one-stop system, with faults",
		Long: `Serve both portals' APIs over HTTP from a seeded, deterministic population of
dossiers, for tests, demos and benchmarks. Simulated time starts at --start
and moves only when asked (POST /sim/advance?minutes=N) or with --auto-advance;
every reply's Date header is the simulated time.

  DVCQG       POST /api/auth (header dstcode), POST /api/service
              (DanhSachHoSo with ngayNhan1/ngayNhan2, TraCuuHoSo with mahoso)
  one-stop    POST /api/v1/auth/token, GET /api/v1/dossiers?updated_after=&after_code=&limit=,
              GET /api/v1/dossiers/{code}
  controls    POST /sim/advance?minutes=N, GET /sim/state?portal=onestop|dvcqg (the
              ground truth, NDJSON), GET /sim/stats[?census=1], GET|POST /sim/faults,
              GET /sim/directory

By default a few per cent of dossiers are late (--late-share), judged as the
decided rules judge lateness: against the appointment on the receipt (or a
supplement round's new one), compared by date, at the end of processing.

Fault rates are shares from 0 to 1 and can be changed while running with
POST /sim/faults (the JSON body replaces all settings).`,
		Example: `  dvcwatch portalsim
  dvcwatch portalsim --dossiers 1000000 --seed 7 --start "2026-11-24 09:00"
  dvcwatch portalsim --error-rate 0.05 --throttle-rate 0.05 --retry-after 2 --bad-record-rate 0.01
  dvcwatch portalsim --busy-rate 0.05 --bom-rate 0.1 --dvcqg-whole-days --max-window-records 200
  curl -XPOST 'http://127.0.0.1:8700/sim/advance?minutes=60'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("portalsim takes no arguments, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := parseMinute("--start", start)
				if err != nil {
					return err
				}
				opts.Start = t
			}
			if opts.Dossiers < 1 {
				return usageErrorf("--dossiers %d: want 1 or more", opts.Dossiers)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return unknownValue("--log-level", logLevel, "log level", config.LogLevels)
			}
			if autoEvery < 0 || (autoEvery > 0 && autoMinutes < 1) {
				return usageErrorf("--auto-advance %s every %d minutes: want a positive interval and at least 1 minute", autoEvery, autoMinutes)
			}
			faults.OutOfOrder = portalsim.Rate(outOfOrder)
			if err := faults.Validate(); err != nil {
				return usageErrorf("fault flags: %v", err)
			}
			opts.Faults = &faults
			if opts.LateShare == 0 {
				opts.LateShare = -1 // asked for none; Options reads 0 as the default
			}
			if err := opts.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			return runPortalsim(cmd.Context(), cmd, listen, opts, autoEvery, autoMinutes)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8700", "address to listen on (host:port; port 0 picks one)")
	f.IntVar(&opts.Dossiers, "dossiers", portalsim.DefaultDossiers, "dossiers received in the 90 days before --start; they keep arriving at that rate")
	f.Int64Var(&opts.Seed, "seed", 1, "seed of the population and of the fault draws")
	f.StringVar(&start, "start", "", `initial simulated time, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh); default now`)
	f.StringVar(&opts.AgencyCode, "agency-code", portalsim.DefaultAgencyCode, "the agency's code (DonViXuLy, madonvi, dstcode)")
	f.StringVar(&opts.AgencyName, "agency-name", portalsim.DefaultAgencyName, "the agency's name")
	f.StringVar(&opts.Username, "username", portalsim.DefaultUsername, "user name both portals accept")
	f.StringVar(&opts.Password, "password", portalsim.DefaultPassword, "password both portals accept")
	f.DurationVar(&opts.SessionTTL, "session-ttl", portalsim.DefaultSessionTTL, "lifetime of DVCQG sessions and one-stop tokens (wall time)")
	f.IntVar(&opts.MaxWindowRecords, "max-window-records", portalsim.DefaultMaxWindowRecords, "DVCQG answers 413 when a window holds more records")
	f.DurationVar(&opts.Hang, "hang", portalsim.DefaultHang, "how long a timeout fault holds a request at most")
	f.Float64Var(&opts.LateShare, "late-share", portalsim.DefaultLateShare, "share of dossiers processed after their appointment's date or left open past it (0: none)")
	f.DurationVar(&autoEvery, "auto-advance", 0, "advance simulated time every this much wall time (0: only on POST /sim/advance)")
	f.IntVar(&autoMinutes, "auto-advance-minutes", 1, "simulated minutes each --auto-advance tick moves")
	f.StringVar(&logLevel, "log-level", "info", "debug logs every request (never bodies, credentials or tokens)")

	f.Float64Var(&faults.ErrorRate, "error-rate", faults.ErrorRate, "share of API requests answered 500, 502 or 503")
	f.Float64Var(&faults.ThrottleRate, "throttle-rate", faults.ThrottleRate, "share answered 429 with Retry-After")
	f.Float64Var(&faults.BusyRate, "busy-rate", faults.BusyRate, `share answered 200 with a "busy" code in the body (DVCQG error_code 503 or 429, one-stop error temporarily_unavailable) and Retry-After`)
	f.IntVar(&faults.RetryAfter, "retry-after", faults.RetryAfter, "seconds in the Retry-After of a 429 or a busy reply")
	f.IntVar(&faults.SlowMS, "slow-ms", faults.SlowMS, "milliseconds added to every API request")
	f.Float64Var(&faults.TimeoutRate, "timeout-rate", faults.TimeoutRate, "share held until the client gives up (or --hang)")
	f.Float64Var(&faults.MalformedRate, "malformed-rate", faults.MalformedRate, "share answered with a body that is not JSON")
	f.Float64Var(&faults.TruncatedRate, "truncated-rate", faults.TruncatedRate, "share answered with JSON cut mid-way")
	f.Float64Var(&faults.SessionExpiryRate, "session-expiry-rate", faults.SessionExpiryRate, "share whose session or token expires under them")
	f.Float64Var(&faults.DuplicateRate, "duplicate-rate", faults.DuplicateRate, "share of pages with a record repeated (from the page or the one before)")
	f.Float64Var(&outOfOrder, "out-of-order", 0, "share of pages served shuffled")
	f.Float64Var(&faults.BadRecordRate, "bad-record-rate", faults.BadRecordRate, "share of pages with an extra record lacking a code or with a bad date")
	f.Float64Var(&faults.BOMRate, "bom-rate", faults.BOMRate, "share of replies with a UTF-8 byte-order mark before the JSON body")
	f.BoolVar(&faults.DVCQGWholeDays, "dvcqg-whole-days", faults.DVCQGWholeDays, "DVCQG's DanhSachHoSo lists whole days, both ends' days included, whatever the hours asked")
	f.Float64Var(&faults.DVCQGMissingRate, "dvcqg-missing-rate", faults.DVCQGMissingRate, "share of dossiers never synced to DVCQG")
	f.Float64Var(&faults.DVCQGMismatchRate, "dvcqg-mismatch-rate", faults.DVCQGMismatchRate, "share of dossiers stuck at an older state on DVCQG")
	f.Float64Var(&faults.DVCQGLagRate, "dvcqg-lag-rate", faults.DVCQGLagRate, "share of dossiers reaching DVCQG minutes late")
	return cmd
}

// runPortalsim builds the population, serves it until ctx ends, and advances
// the simulated time on a wall-clock tick if asked to.
func runPortalsim(ctx context.Context, cmd *cobra.Command, listen string, opts portalsim.Options, every time.Duration, minutes int) error {
	began := time.Now()
	sim := portalsim.New(opts)
	defer sim.Close()
	debug.FreeOSMemory() // building a large population leaves scratch memory behind
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("portalsim: listen: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	st := sim.Stats()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "portalsim: listening on http://%s with %d dossiers (%d on DVCQG), seed %d, simulated time %s (built in %s)\n",
		ln.Addr(), st.Dossiers, st.DVCQGDossiers, opts.Seed, st.SimTime.Format(minuteLayout), time.Since(began).Round(time.Millisecond))
	password := fmt.Sprintf("%q (the default)", portalsim.DefaultPassword)
	if opts.Password != portalsim.DefaultPassword {
		password = "as given by --password"
	}
	fmt.Fprintf(out, "portalsim: credentials for both portals: username %q, password %s; DVCQG dstcode and madonvi %s\n",
		opts.Username, password, opts.AgencyCode)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-served:
			return fmt.Errorf("portalsim: serve: %w", err)
		case <-tick:
			if _, err := sim.Advance(minutes); err != nil {
				opts.Logger.Warn("auto-advance stopped", "err", err)
				tick = nil
			}
		case <-ctx.Done():
			sim.Close() // release requests held by timeout faults
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("portalsim: shut down: %w", err)
			}
			fmt.Fprintln(out, "portalsim: stopped")
			return nil
		}
	}
}
