package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/sla"
)

// minuteLayout is how operators type and read instants: local Vietnamese time.
const minuteLayout = "2006-01-02 15:04"

func newCalendarCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Working days, public holidays and legal deadlines",
		Long: `Working days, public holidays and legal deadlines as dvcwatch computes them.

Holidays announced by the government (2025, 2026) are built in; other years use
the Labor Code's rules with the Vietnamese lunar calendar (UTC+7). An operator's
calendar file (calendar.file in the configuration) corrects or adds years.`,
	}
	cmd.AddCommand(newCalendarDueCommand(), newCalendarHolidaysCommand())
	return cmd
}

func newCalendarDueCommand() *cobra.Command {
	var (
		path, received, limit, agency, counting string
		pauses                                  []string
	)
	cmd := &cobra.Command{
		Use:   "due",
		Short: "Compute a dossier's due date from when it was received and the time limit",
		Long: `Compute a dossier's due date. The first line is "due: YYYY-MM-DD HH:MM"
(Asia/Ho_Chi_Minh); the lines after it explain the computation: the receipt
day, the counting convention, the first and last counted days, every
non-working day passed over with its name, the pauses and the office hours.

Counting (--counting; default: the agency's counting with --config and
--agency, else calendar.counting of --config, else dates):
  dates         the legal counting (Civil Code 2015 art. 147-148). The receipt
                day is not counted; a dossier received at or after the cutoff or
                on a non-working day counts as received on the next working day.
                5wd ends at the close of office on the 5th working day after the
                receipt day. Pauses add their office time in whole working days,
                rounded up.
  office_hours  working days counted as office time from the moment of receipt
                (one day = the office day, e.g. 7h30m); pauses add the office
                time they cover.

Limits: 5wd (working days), 8h (working hours, office time from the receipt
in both conventions), 15d (calendar days from the day after the receipt day),
1m (months, to the same day number or the month's last day). A calendar-day or
month period whose last day is not a working day ends at the close of the next
working day (art. 148(5)); pauses move its last day by their calendar time in
whole days, rounded up.`,
		Example: `  dvcwatch calendar due --received "2026-04-23 09:00" --limit 5wd
  dvcwatch calendar due --received "2026-02-12 15:00" --limit 5wd --counting office_hours
  dvcwatch calendar due --received "2026-04-24 08:00" --limit 15d --pause "2026-04-27 08:00..2026-04-28 17:00"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var conv sla.Counting
			if cmd.Flags().Changed("counting") {
				c, err := sla.ParseCounting(counting)
				if err != nil {
					var known []string
					for _, k := range sla.Countings() {
						known = append(known, string(k))
					}
					return usageErrorf("--counting: unknown counting %q %s", counting, config.WantOneOf(counting, known))
				}
				conv = c
			}
			at, err := parseMinute("--received", received)
			if err != nil {
				return err
			}
			if limit == "" {
				return usageErrorf("--limit: required, e.g. 5wd, 15d, 8h or 1m")
			}
			lim, err := sla.ParseLimit(limit)
			if err != nil {
				return usageErrorf("--limit: %v", err)
			}
			var paused []sla.Interval
			for _, p := range pauses {
				iv, err := parsePause(p)
				if err != nil {
					return err
				}
				paused = append(paused, iv)
			}
			sched, err := loadSchedule(path, agency, conv)
			if err != nil {
				return err
			}
			c, err := sched.Compute(at, lim, paused)
			if err != nil {
				return usageErrorf("--received %s: %v", received, err)
			}
			return writeComputation(cmd.OutOrStdout(), c, sched.Hours())
		},
	}
	configFlag(cmd, &path, false)
	cmd.Flags().StringVar(&received, "received", "", `when the dossier was received, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh)`)
	cmd.Flags().StringVar(&limit, "limit", "", "time limit: 5wd, 15d, 8h or 1m")
	cmd.Flags().StringVar(&agency, "agency", "", "agency code whose office hours and counting apply (needs --config)")
	cmd.Flags().StringVar(&counting, "counting", "", "counting convention: dates or office_hours (default: the configured one, else dates)")
	cmd.Flags().StringArrayVar(&pauses, "pause", nil, `a paused interval (waiting for payment, or a supplement that pauses), "YYYY-MM-DD HH:MM..YYYY-MM-DD HH:MM"; repeatable`)
	return cmd
}

func newCalendarHolidaysCommand() *cobra.Command {
	var (
		path string
		year int
	)
	cmd := &cobra.Command{
		Use:   "holidays",
		Short: "List the non-working weekdays and working weekend days of a year",
		Long: `List, one line each, every weekday that is not a working day (public holidays,
compensatory days, announced days off) and every Saturday or Sunday made a
working day, as: date, weekday, kind, name, source.`,
		Example: `  dvcwatch calendar holidays --year 2026`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("year") {
				return usageErrorf("--year: required, e.g. --year %d", time.Now().Year())
			}
			if year < sla.MinYear || year > sla.MaxYear {
				return usageErrorf("--year %d: want a year from %d to %d", year, sla.MinYear, sla.MaxYear)
			}
			cal, err := loadCalendar(path)
			if err != nil {
				return err
			}
			days, err := cal.Exceptions(year)
			if err != nil {
				return usageErrorf("--year %d: %v", year, err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, d := range days {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Date.Format("2006-01-02"), d.Date.Weekday().String()[:3], d.Kind, d.Name, d.Source)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if !cal.Announced(year) {
				cmd.PrintErrf("note: no announcement for %d is on file; these are the Labor Code defaults (add the year to the calendar file once it is announced)\n", year)
			}
			return nil
		},
	}
	configFlag(cmd, &path, false)
	cmd.Flags().IntVar(&year, "year", 0, "year to list (2000–2100)")
	return cmd
}

// loadCalendar returns the built-in calendar, corrected by the operator's file
// when a configuration names one.
func loadCalendar(path string) (*sla.Calendar, error) {
	if path == "" {
		return sla.LoadCalendar("")
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	return sla.LoadCalendar(cfg.Calendar.File)
}

// loadSchedule builds the deadline calculator for an agency (or the calendar's
// defaults) from the configuration, or from built-in defaults without one;
// counting, unless empty, replaces the configured convention.
func loadSchedule(path, agency string, counting sla.Counting) (*sla.Schedule, error) {
	if path == "" {
		if agency != "" {
			return nil, usageErrorf("--agency %s: needs --config, where agencies are defined", agency)
		}
		cal, err := sla.LoadCalendar("")
		if err != nil {
			return nil, err
		}
		return sla.NewScheduleCounting(cal, sla.DefaultOfficeHours(), cmp.Or(counting, sla.DefaultCounting))
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	cal, err := sla.LoadCalendar(cfg.Calendar.File)
	if err != nil {
		return nil, err
	}
	sessions, cutoff, configured := cfg.Calendar.OfficeHours, cfg.Calendar.Cutoff, cfg.Calendar.Counting
	if agency != "" {
		i := slices.IndexFunc(cfg.Agencies, func(a config.Agency) bool { return a.Code == agency })
		if i < 0 {
			return nil, usageErrorf("--agency %s: no such agency in %s", agency, path)
		}
		a := cfg.Agencies[i]
		sessions, cutoff, configured = a.OfficeHours, a.Cutoff, a.Counting
	}
	hours, err := sla.ParseOfficeHours(sessions, cutoff)
	if err != nil {
		return nil, err
	}
	return sla.NewScheduleCounting(cal, hours, cmp.Or(counting, configured, sla.DefaultCounting))
}

func parseMinute(flag, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, usageErrorf("%s: required, as \"YYYY-MM-DD HH:MM\"", flag)
	}
	t, err := time.ParseInLocation(minuteLayout, strings.TrimSpace(value), sla.Location())
	if err != nil {
		return time.Time{}, usageErrorf("%s %q: want \"YYYY-MM-DD HH:MM\" (Asia/Ho_Chi_Minh), e.g. \"2026-03-02 08:00\"", flag, value)
	}
	return t, nil
}

func parsePause(value string) (sla.Interval, error) {
	a, b, ok := strings.Cut(value, "..")
	if !ok {
		return sla.Interval{}, usageErrorf("--pause %q: want \"YYYY-MM-DD HH:MM..YYYY-MM-DD HH:MM\"", value)
	}
	start, err := parseMinute("--pause start", a)
	if err != nil {
		return sla.Interval{}, err
	}
	end, err := parseMinute("--pause end", b)
	if err != nil {
		return sla.Interval{}, err
	}
	if !end.After(start) {
		return sla.Interval{}, usageErrorf("--pause %q: the end must come after the start", value)
	}
	return sla.Interval{Start: start, End: end}, nil
}

func describeHours(h sla.OfficeHours) string {
	parts := make([]string, len(h.Sessions))
	for i, s := range h.Sessions {
		parts[i] = s.String()
	}
	return fmt.Sprintf("%s, cutoff %s", strings.Join(parts, ", "), clock24(h.Cutoff))
}
