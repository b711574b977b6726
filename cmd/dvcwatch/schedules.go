package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/admin/client"
)

func newSchedulesCommand() *cobra.Command {
	conn := &adminConn{}
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List, run, pause, resume and change the schedules through the admin API",
		Long: `List the schedules of a running dvcwatch serve, run one now, pause, resume it,
or give it a new cron expression, through its admin API. Listing needs a viewer
token, the rest an operator token. A change is stored in the database, wins
over the configuration file and survives a restart; the replica that answers
applies it at once, the others within 10 s.

` + adminConnHelp,
	}
	conn.flags(cmd)
	cmd.AddCommand(
		newSchedulesListCommand(conn),
		newScheduleActionCommand(conn, "run", "Enqueue a schedule's job now, even if paused (operator token)",
			"run schedule %s now", func(ctx context.Context, c *client.Client, name string, w io.Writer) error {
				r, err := c.RunSchedule(ctx, name)
				if err != nil || conn.json {
					return err
				}
				_, err = fmt.Fprintf(w, "schedule %s: enqueued task %s (see dvcwatch jobs list --state pending)\n", name, r.TaskID)
				return err
			}),
		newScheduleActionCommand(conn, "pause", "Stop enqueueing a schedule's ticks until it is resumed (operator token)",
			"pause schedule %s", func(ctx context.Context, c *client.Client, name string, w io.Writer) error {
				s, err := c.PauseSchedule(ctx, name)
				if err != nil || conn.json {
					return err
				}
				return printPaused(w, name, s, true)
			}),
		newScheduleActionCommand(conn, "resume", "Enqueue a paused schedule's ticks again, from its next one (operator token)",
			"resume schedule %s", func(ctx context.Context, c *client.Client, name string, w io.Writer) error {
				s, err := c.ResumeSchedule(ctx, name)
				if err != nil || conn.json {
					return err
				}
				return printPaused(w, name, s, false)
			}),
		newSchedulesSetCommand(conn),
	)
	return cmd
}

// printPaused says that schedule name, as the server answered it (s), is now
// paused or resumed, and what that does to its next tick.
func printPaused(w io.Writer, name string, s admin.Schedule, paused bool) error {
	verb, next := "paused", " (next tick %s skipped until resumed)"
	if !paused {
		verb, next = "resumed", " (next tick %s)"
	}
	var err error
	switch {
	case s.Paused != paused:
		_, err = fmt.Fprintf(w, "schedule %s: %s stored; the running scheduler has not applied it yet (every replica re-reads changes within 10 s)\n",
			name, strings.TrimSuffix(verb, "d"))
	case s.Next != nil:
		_, err = fmt.Fprintf(w, "schedule %s: %s"+next+"\n", name, verb, vnTime(*s.Next))
	default:
		_, err = fmt.Fprintf(w, "schedule %s: %s\n", name, verb)
	}
	return err
}

func newSchedulesListCommand(conn *adminConn) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the schedules as they run: expression, state, next and last tick, who changed them",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			ss, err := c.Schedules(ctx)
			if err != nil {
				return conn.explain(ctx, c, "list schedules", err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			return printSchedules(w, ss)
		},
	}
}

func printSchedules(w io.Writer, ss []admin.Schedule) error {
	rows := make([][]string, len(ss))
	for i, s := range ss {
		zone, expr := splitZone(s.Cron)
		state := "active"
		if s.Paused {
			state = "paused"
		}
		configured := "(same)"
		if s.Configured != s.Cron {
			configured = s.Configured
		}
		changed := "-"
		if s.UpdatedBy != "" {
			changed = "by " + s.UpdatedBy + " " + vnTimePtr(s.UpdatedAt)
		}
		rows[i] = []string{s.Name, s.Job, dash(s.Connector), expr, dash(zone), state, vnTimePtr(s.Next), vnTimePtr(s.Prev),
			configured, changed}
	}
	return printTable(w, "no schedules configured", rows,
		"NAME", "JOB", "CONNECTOR", "CRON", "ZONE", "STATE", "NEXT", "LAST", "CONFIGURED", "CHANGED")
}

// splitZone splits "CRON_TZ=Zone expr" into the zone and the expression.
func splitZone(spec string) (zone, expr string) {
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(spec, prefix); ok {
			zone, expr, _ = strings.Cut(rest, " ")
			return zone, strings.TrimSpace(expr)
		}
	}
	return "", spec
}

// unknownSchedule makes the server's 404 for a schedule name, which lists the
// names it has, what it is: a mistyped argument (exit 2).
func unknownSchedule(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
		return usageError{err}
	}
	return err
}

// newScheduleActionCommand is a subcommand taking a schedule's name; do
// prints what happened unless --json, when the answer is printed as sent.
func newScheduleActionCommand(conn *adminConn, use, short, action string,
	do func(ctx context.Context, c *client.Client, name string, w io.Writer) error) *cobra.Command {
	return &cobra.Command{
		Use:     use + " NAME",
		Short:   short,
		Example: "  dvcwatch schedules " + use + " sync-onestop",
		Args:    exactArgs(1, "one schedule name (see dvcwatch schedules list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			if err := do(ctx, c, args[0], w); err != nil {
				return unknownSchedule(conn.explain(ctx, c, fmt.Sprintf(action, args[0]), err))
			}
			if conn.json {
				return conn.printJSON(w)
			}
			return nil
		},
	}
}

func newSchedulesSetCommand(conn *adminConn) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME CRON",
		Short: "Give a schedule a new cron expression (operator token)",
		Long: `Give a schedule a new cron expression: five fields or a descriptor (@hourly,
@every 15m), in the schedule's time zone unless it starts with CRON_TZ=Zone.
Quote it as one argument. It takes effect from its next tick after now, and
wins over the configuration file until changed again.`,
		Example: `  dvcwatch schedules set sync-onestop "*/10 7-17 * * 1-5"
  dvcwatch schedules set detect "@every 30m"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf(`%s: want NAME and CRON, the expression quoted as one argument (e.g. "*/10 * * * *"), found %s`,
					cmd.CommandPath(), argCount(len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			name, expr := args[0], strings.TrimSpace(args[1])
			s, err := c.SetSchedule(ctx, name, expr)
			if err != nil {
				return unknownSchedule(conn.explain(ctx, c, "change the cron expression of schedule "+name, err))
			}
			if conn.json {
				return conn.printJSON(w)
			}
			zone, inForce := splitZone(s.Cron)
			if s.Cron != expr && inForce != expr {
				_, err = fmt.Fprintf(w, "schedule %s: cron %q stored; the running scheduler has not applied it yet (every replica re-reads changes within 10 s)\n", name, expr)
				return err
			}
			next := "never"
			if s.Next != nil {
				next = vnTime(*s.Next)
			}
			_, err = fmt.Fprintf(w, "schedule %s: cron %q in force (%s; next tick %s)\n", name, inForce, dash(zone), next)
			return err
		},
	}
}
