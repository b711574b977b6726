package main

import (
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
		path, received, limit, agency string
		pauses                        []string
	)
	cmd := &cobra.Command{
		Use:   "due",
		Short: "Compute a dossier's due date from when it was received and the time limit",
		Long: `Compute a dossier's due date. The first line is "due: YYYY-MM-DD HH:MM"
(Asia/Ho_Chi_Minh); the lines after it explain the computation.

Limits: 5wd (working days of office time), 8h (working hours), 15d (calendar
days: counting starts the next day; a last day that is not a working day moves
to the end of the next working day), 1m (months).`,
		Example: `  dvcwatch calendar due --received "2026-02-12 15:00" --limit 5wd
  dvcwatch calendar due --received "2026-02-10 09:00" --limit 10wd --pause "2026-02-11 08:00..2026-02-24 10:00"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			sched, err := loadSchedule(path, agency)
			if err != nil {
				return err
			}
			due, err := sched.Deadline(at, lim, paused)
			if err != nil {
				return usageErrorf("--received %s: %v", received, err)
			}
			start, err := sched.EffectiveStart(at)
			if err != nil {
				return usageErrorf("--received %s: %v", received, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "due: %s\n", due.Format(minuteLayout))
			fmt.Fprintf(w, "received: %s (%s)\n", at.Format(minuteLayout), at.Weekday())
			fmt.Fprintf(w, "counting from: %s (%s)\n", start.Format(minuteLayout), start.Weekday())
			fmt.Fprintf(w, "limit: %s\n", describeLimit(lim, sched.Hours()))
			for _, iv := range paused {
				fmt.Fprintf(w, "paused: %s .. %s\n", iv.Start.Format(minuteLayout), iv.End.Format(minuteLayout))
			}
			fmt.Fprintf(w, "office hours: %s\n", describeHours(sched.Hours()))
			return nil
		},
	}
	configFlag(cmd, &path, false)
	cmd.Flags().StringVar(&received, "received", "", `when the dossier was received, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh)`)
	cmd.Flags().StringVar(&limit, "limit", "", "time limit: 5wd, 15d, 8h or 1m")
	cmd.Flags().StringVar(&agency, "agency", "", "agency code whose office hours apply (needs --config)")
	cmd.Flags().StringArrayVar(&pauses, "pause", nil, `a paused interval (waiting for the citizen), "YYYY-MM-DD HH:MM..YYYY-MM-DD HH:MM"; repeatable`)
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
// defaults) from the configuration, or from built-in defaults without one.
func loadSchedule(path, agency string) (*sla.Schedule, error) {
	if path == "" {
		if agency != "" {
			return nil, usageErrorf("--agency %s: needs --config, where agencies are defined", agency)
		}
		cal, err := sla.LoadCalendar("")
		if err != nil {
			return nil, err
		}
		return sla.NewSchedule(cal, sla.DefaultOfficeHours())
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	cal, err := sla.LoadCalendar(cfg.Calendar.File)
	if err != nil {
		return nil, err
	}
	sessions, cutoff := cfg.Calendar.OfficeHours, cfg.Calendar.Cutoff
	if agency != "" {
		i := slices.IndexFunc(cfg.Agencies, func(a config.Agency) bool { return a.Code == agency })
		if i < 0 {
			return nil, usageErrorf("--agency %s: no such agency in %s", agency, path)
		}
		sessions, cutoff = cfg.Agencies[i].OfficeHours, cfg.Agencies[i].Cutoff
	}
	hours, err := sla.ParseOfficeHours(sessions, cutoff)
	if err != nil {
		return nil, err
	}
	return sla.NewSchedule(cal, hours)
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

func describeLimit(l sla.Limit, h sla.OfficeHours) string {
	switch l.Unit {
	case sla.WorkingDays:
		return fmt.Sprintf("%s (%d working days of %s office time)", l, l.Amount, h.DayLength())
	case sla.WorkingHours:
		return fmt.Sprintf("%s (%d hours of office time)", l, l.Amount)
	case sla.CalendarDays:
		return fmt.Sprintf("%s (%d calendar days from the next day; ends at the close of a working day)", l, l.Amount)
	default:
		return fmt.Sprintf("%s (%d months; ends at the close of a working day)", l, l.Amount)
	}
}

func describeHours(h sla.OfficeHours) string {
	parts := make([]string, len(h.Sessions))
	for i, s := range h.Sessions {
		parts[i] = s.String()
	}
	return fmt.Sprintf("%s, cutoff %02d:%02d", strings.Join(parts, ", "), int(h.Cutoff.Hours()), int(h.Cutoff.Minutes())%60)
}
