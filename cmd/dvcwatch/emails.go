package main

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/admin/client"
	"github.com/dvcwatch/dvcwatch/store"
)

func newEmailsCommand() *cobra.Command {
	conn := &adminConn{}
	cmd := &cobra.Command{
		Use:     "emails",
		Aliases: []string{"notifications"},
		Short:   "List the emails of the outbox through the admin API",
		Long: `List the emails dvcwatch composed (the outbox) of a running dvcwatch serve,
through its admin API, with a viewer token.

` + adminConnHelp,
	}
	conn.flags(cmd)
	cmd.AddCommand(newEmailsListCommand(conn))
	return cmd
}

func newEmailsListCommand(conn *adminConn) *cobra.Command {
	var (
		state, kind, recipient, output string
		limit                          int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List emails, the newest first; the table says how many it left out",
		Example: `  dvcwatch emails list --state failed
  dvcwatch emails list --recipient nguyen.van.an --limit 20 --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case state != "" && !slices.Contains(store.NotificationStates(), state):
				return usageErrorf("--state %q: want one of %s", state, strings.Join(store.NotificationStates(), ", "))
			case kind != "" && !slices.Contains([]string{"alerts", "summary", "operator"}, kind):
				return usageErrorf("--kind %q: want one of alerts, summary, operator", kind)
			case limit < 1 || limit > 1000:
				return usageErrorf("--limit %d: want 1 to 1000", limit)
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			conn.json = conn.json || output == outputJSON
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			p, err := c.Notifications(ctx, client.NotificationFilter{State: state, Kind: kind, Recipient: recipient, Limit: limit})
			if err != nil {
				return conn.explain(ctx, c, "list emails", err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			if err := printEmails(w, p.Items); err != nil {
				return err
			}
			leftOut(cmd.ErrOrStderr(), len(p.Items), p.Total)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&state, "state", "", "only emails in this state: "+strings.Join(store.NotificationStates(), ", "))
	f.StringVar(&kind, "kind", "", "only emails of this kind: alerts, summary, operator")
	f.StringVar(&recipient, "recipient", "", "only emails to this official id")
	f.IntVar(&limit, "limit", 100, "at most this many (1 to 1000)")
	outputFlag(cmd, &output)
	return cmd
}

func printEmails(w io.Writer, ns []admin.Notification) error {
	rows := make([][]string, len(ns))
	for i, n := range ns {
		at := vnTimePtr(n.SentAt)
		if n.FailedAt != nil {
			at = vnTimePtr(n.FailedAt)
		}
		state := n.State
		if n.Cause == dvcwatch.CauseMailUncertain {
			// Not sent again by itself: the administrator decides.
			state = "failed: possibly delivered"
		}
		rows[i] = []string{strconv.FormatInt(n.ID, 10), vnTime(n.CreatedAt), n.Kind, n.Recipient, state, at,
			vnInt(n.Items), tableCell(n.Subject)}
	}
	return printTable(w, "no emails", rows, "ID", "CREATED", "KIND", "RECIPIENT", "STATE", "SENT/FAILED", "ITEMS", "SUBJECT")
}
