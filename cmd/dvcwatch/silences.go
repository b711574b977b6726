package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
)

func newSilencesCommand() *cobra.Command {
	conn := &adminConn{}
	cmd := &cobra.Command{
		Use:   "silences",
		Short: "Mute breaches by matchers until a time, list and expire silences, through the admin API",
		Long: `Silence the breaches that match every given matcher (kind, agency, department,
official, procedure, dossier code) until a time, e.g. every portal_mismatch
during an announced outage of the national portal: they are still recorded and
listed, as silenced, and nobody is mailed about them. When a silence ends or is
expired, the next detection pass tells what it held back. Listing needs a
viewer token, adding and expiring an operator token; the token's name is kept
as the silence's author.

` + adminConnHelp,
	}
	conn.flags(cmd)
	cmd.AddCommand(newSilencesAddCommand(conn), newSilencesListCommand(conn), newSilencesExpireCommand(conn))
	return cmd
}

func newSilencesAddCommand(conn *adminConn) *cobra.Command {
	values := map[dvcwatch.SilenceLabel]*string{}
	var until, duration, reason string
	cmd := &cobra.Command{
		Use:   "add {--kind K | --agency A | --department D | --official O | --procedure P | --dossier C}... {--until TIME | --for DURATION} --reason TEXT",
		Short: "Mute the breaches matching every given matcher until a time (operator token)",
		Long: `Mute, from now until --until (or for --for), the breaches that match every
matcher given: at least one of --kind, --agency, --department, --official,
--procedure and --dossier. Values compare ignoring case.`,
		Example: `  dvcwatch silences add --kind portal_mismatch --for 72h --reason "Cổng DVCQG bảo trì theo thông báo"
  dvcwatch silences add --dossier 000.05.31.H99-260301-0001 --until "2026-03-06 17:00" \
    --reason "Chờ kết quả thẩm định của Sở"`,
		Args: exactArgs(0, "no arguments (matchers are flags, e.g. --kind portal_mismatch)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := admin.SilenceRequest{Matchers: map[string]string{}, Reason: strings.TrimSpace(reason)}
			var names []string
			for _, l := range dvcwatch.SilenceLabels() {
				names = append(names, "--"+string(l))
				if v := strings.TrimSpace(*values[l]); v != "" {
					req.Matchers[string(l)] = v
				}
			}
			kind := dvcwatch.BreachKind(req.Matchers[string(dvcwatch.LabelKind)])
			switch {
			case len(req.Matchers) == 0:
				return usageErrorf("no matcher: give at least one of %s", strings.Join(names, ", "))
			case kind != "" && !kind.Valid():
				return unknownValue("--kind", string(kind), "breach kind", config.BreachKindNames())
			case until != "" && duration != "":
				return usageErrorf("--until and --for: give one, not both")
			case until == "" && duration == "":
				return usageErrorf(`--until "YYYY-MM-DD HH:MM" or --for DURATION (e.g. 72h, 3d): one is required`)
			case req.Reason == "":
				return usageErrorf("--reason: required, why the breaches are muted (kept with the silence)")
			}
			if until != "" {
				end, err := parseMinute("--until", until)
				if err != nil {
					return err
				}
				if !end.After(time.Now()) {
					return usageErrorf("--until %q: not in the future", until)
				}
				req.EndsAt = end.Format(time.RFC3339)
			} else {
				if d, err := model.ParseDuration(duration); err != nil || d <= 0 {
					return usageErrorf("--for %q: want a positive duration, e.g. 90m, 72h, 3d or 1w", duration)
				}
				req.Duration = duration
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			s, err := c.AddSilence(ctx, req)
			if err != nil {
				return conn.explain(ctx, c, "add a silence", err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			_, err = fmt.Fprintf(w, "silence %d: muting %s until %s, by %s\n", s.ID, matchersText(s.Matchers), vnTime(s.EndsAt), s.CreatedBy)
			return err
		},
	}
	f := cmd.Flags()
	for _, l := range []struct {
		label dvcwatch.SilenceLabel
		usage string
	}{
		{dvcwatch.LabelKind, "breach kind, e.g. portal_mismatch"},
		{dvcwatch.LabelAgency, "agency code (DonViXuLy)"},
		{dvcwatch.LabelDepartment, "department the breaches are attributed to"},
		{dvcwatch.LabelOfficial, "official id the breaches are attributed to"},
		{dvcwatch.LabelProcedure, "procedure code (MaTTHC)"},
		{dvcwatch.LabelDossier, "dossier code"},
	} {
		values[l.label] = f.String(string(l.label), "", "match the "+l.usage)
	}
	f.StringVar(&until, "until", "", `end of the silence, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh)`)
	f.StringVar(&duration, "for", "", "length of the silence from now, e.g. 90m, 72h, 3d, 1w")
	f.StringVar(&reason, "reason", "", "why (kept with the silence)")
	return cmd
}

// matchersText writes an API silence's matchers as label=value, in the
// labels' fixed order.
func matchersText(m map[string]string) string {
	var parts []string
	for _, l := range dvcwatch.SilenceLabels() {
		if v, ok := m[string(l)]; ok {
			parts = append(parts, string(l)+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func newSilencesListCommand(conn *adminConn) *cobra.Command {
	const maxLimit = 1000 // the API's
	var all bool
	var limit int
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the active silences (--all: ended ones too), the newest first",
		Example: "  dvcwatch silences list\n  dvcwatch silences list --all --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > maxLimit {
				return usageErrorf("--limit %d: want 1 to %d", limit, maxLimit)
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			ss, err := c.Silences(ctx, all, limit)
			if err != nil {
				return conn.explain(ctx, c, "list silences", err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			empty := "no active silences"
			if all {
				empty = "no silences"
			}
			return printSilences(w, empty, ss)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "ended silences too")
	cmd.Flags().IntVar(&limit, "limit", 200, fmt.Sprintf("at most this many (1 to %d)", maxLimit))
	return cmd
}

func printSilences(w io.Writer, empty string, ss []admin.Silence) error {
	rows := make([][]string, len(ss))
	for i, s := range ss {
		state := "active"
		switch {
		case s.ExpiredBy != "":
			state = "expired by " + s.ExpiredBy
		case !s.Active:
			state = "ended"
		}
		rows[i] = []string{strconv.FormatInt(s.ID, 10), matchersText(s.Matchers), vnTime(s.StartsAt), vnTime(s.EndsAt), state,
			s.CreatedBy, tableCell(s.Reason)}
	}
	return printTable(w, empty, rows, "ID", "MATCHERS", "FROM", "UNTIL", "STATE", "BY", "REASON")
}

func newSilencesExpireCommand(conn *adminConn) *cobra.Command {
	var id int64
	cmd := &cobra.Command{
		Use:     "expire --id N",
		Short:   "End a silence now: the next detection pass tells what it held back (operator token)",
		Example: "  dvcwatch silences expire --id 3",
		Args:    exactArgs(0, "no arguments (the silence is --id N)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id <= 0 {
				return usageErrorf(`--id: required, the silence's ID from "dvcwatch silences list"`)
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			s, err := c.ExpireSilence(ctx, id)
			if err != nil {
				return conn.explain(ctx, c, fmt.Sprintf("expire silence %d", id), err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			_, err = fmt.Fprintf(w, "silence %d: expired at %s (was muting %s); the next detection pass tells what it held back\n",
				s.ID, vnTime(s.EndsAt), matchersText(s.Matchers))
			return err
		},
	}
	cmd.Flags().Int64Var(&id, "id", 0, "the silence's ID")
	return cmd
}
