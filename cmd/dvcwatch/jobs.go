package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/admin/client"
)

// Where the jobs, schedules and silences commands find the admin API and its token.
const (
	envServer     = "DVCWATCH_SERVER"
	envToken      = "DVCWATCH_TOKEN"
	defaultServer = "http://127.0.0.1:8080"
)

// adminConnHelp ends the help of the commands that go through the admin
// API: where they find it, and what their exit statuses mean.
const adminConnHelp = `The server is --server, else $DVCWATCH_SERVER, else http://<admin.listen> of
the configuration file (--config or $DVCWATCH_CONFIG), else
http://127.0.0.1:8080. The token is --token, else $DVCWATCH_TOKEN. Times are
Asia/Ho_Chi_Minh. Exit status 1 when the server refuses or cannot be reached,
2 for bad input.`

// adminConn is how the jobs, schedules and silences commands reach a running
// dvcwatch serve: its admin API, through package admin/client. The token is
// read when a command runs, never shown as a flag default.
type adminConn struct {
	server, token, config string
	json                  bool
	raw                   []byte // the last answer's body, with --json
}

func (a *adminConn) flags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&a.server, "server", "", "admin API URL (default $"+envServer+", else http://<admin.listen> of --config, else "+defaultServer+")")
	f.StringVar(&a.token, "token", "", "admin API bearer token (default $"+envToken+"; prefer the variable: ps shows flags)")
	f.StringVar(&a.config, "config", os.Getenv("DVCWATCH_CONFIG"), "configuration file whose admin.listen names the server (default $DVCWATCH_CONFIG)")
	f.BoolVar(&a.json, "json", false, "print the API's JSON answer instead of a table or a sentence")
}

// client builds the API client; a missing token or a bad server URL is the
// user's to fix (exit 2).
func (a *adminConn) client() (*client.Client, error) {
	token := a.token
	if token == "" {
		token = os.Getenv(envToken)
	}
	if strings.TrimSpace(token) == "" {
		return nil, usageErrorf("--token: no admin API token given (pass --token TOKEN or set %s)", envToken)
	}
	server, from := a.server, "--server"
	if server == "" {
		server, from = os.Getenv(envServer), envServer
	}
	if server == "" && a.config != "" {
		cfg, err := loadConfig(a.config)
		if err != nil {
			return nil, err
		}
		server, from = listenURL(cfg.Admin.Listen), a.config+": admin.listen"
	}
	if server == "" {
		server = defaultServer
	}
	var opts []client.Option
	if a.json {
		opts = append(opts, client.WithAnswerBody(func(b []byte) { a.raw = b }))
	}
	c, err := client.New(server, token, opts...)
	if err != nil {
		return nil, usageErrorf("%s: %v", from, err)
	}
	return c, nil
}

// listenURL is the URL a client on this host reaches admin.listen at: an
// address that listens on every interface is reached on loopback.
func listenURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printJSON writes the last answer as the server sent it.
func (a *adminConn) printJSON(w io.Writer) error {
	if len(a.raw) == 0 {
		return nil // 204: no content
	}
	if _, err := w.Write(a.raw); err != nil {
		return err
	}
	if a.raw[len(a.raw)-1] != '\n' {
		_, err := io.WriteString(w, "\n")
		return err
	}
	return nil
}

// explain words a refusal for the operator: what to check for a 401, which
// token and role may not do action for a 403. Other errors are the client's.
func (a *adminConn) explain(ctx context.Context, c *client.Client, action string, err error) error {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("the server refused the token (401): %s; check --token or %s", ae.Message, envToken)
	case http.StatusForbidden:
		needs := ""
		if i := strings.LastIndex(ae.Message, " needs "); i >= 0 {
			needs = " (needs " + strings.TrimSpace(ae.Message[i+len(" needs "):]) + ")"
		}
		who, werr := c.Whoami(ctx)
		if werr != nil {
			return fmt.Errorf("the token may not %s: 403: %s", action, ae.Message)
		}
		return fmt.Errorf("token %q with role %s may not %s: 403%s", who.Name, who.Role, action, needs)
	}
	return err
}

// exactArgs accepts n arguments, else says what is expected (exit 2).
func exactArgs(n int, want string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s: want %s, found %s", cmd.CommandPath(), want, argCount(len(args)))
		}
		return nil
	}
}

func argCount(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

func newJobsCommand() *cobra.Command {
	conn := &adminConn{}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List, retry and delete the worker's jobs through the admin API",
		Long: `List, retry and delete the jobs of a running dvcwatch serve, through its admin
API. Listing needs a viewer token, retrying and deleting an admin token.

` + adminConnHelp,
	}
	conn.flags(cmd)
	cmd.AddCommand(newJobsListCommand(conn), newJobsRetryCommand(conn), newJobsDeleteCommand(conn))
	return cmd
}

func newJobsListCommand(conn *adminConn) *cobra.Command {
	const maxLimit = 1000 // the API's
	var (
		state, job         string
		failed, runs, open bool
		limit              int
		output             string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the queue's tasks in one state, the failures kept in SQL (--failed) or the job runs (--runs)",
		Long: `List the queue's tasks in one state (--state, archived by default: those that
failed every retry and wait for an administrator), or the failure history kept
in SQL beyond the queue's retention (--failed; --open: only those no
administrator has retried or deleted), or the recorded job runs (--runs;
--job: of one job only), the most recent first.`,
		Example: `  dvcwatch jobs list
  dvcwatch jobs list --state pending --limit 20
  dvcwatch jobs list --failed --open
  dvcwatch jobs list --runs --job sync --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case outputJSON:
				conn.json = true
			case outputTable:
			default:
				return checkOutput(output)
			}
			switch {
			case failed && runs:
				return usageErrorf("--failed and --runs: choose one")
			case (failed || runs) && cmd.Flags().Changed("state"):
				return usageErrorf("--state lists the queue's tasks: not with --failed or --runs")
			case open && !failed:
				return usageErrorf("--open: only with --failed")
			case job != "" && !runs:
				return usageErrorf("--job: only with --runs")
			case !slices.Contains(admin.TaskStates, state):
				return usageErrorf("--state %q: want one of %s", state, strings.Join(admin.TaskStates, ", "))
			case limit < 1 || limit > maxLimit:
				return usageErrorf("--limit %d: want 1 to %d", limit, maxLimit)
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			switch {
			case failed:
				fs, err := c.FailedJobs(ctx, !open, limit)
				if err != nil {
					return conn.explain(ctx, c, "list failed jobs", err)
				}
				if conn.json {
					return conn.printJSON(w)
				}
				return printFailed(w, fs)
			case runs:
				rs, err := c.Runs(ctx, client.RunFilter{Job: job, Limit: limit})
				if err != nil {
					return conn.explain(ctx, c, "list job runs", err)
				}
				if conn.json {
					return conn.printJSON(w)
				}
				if err := printRuns(w, rs.Items); err != nil {
					return err
				}
				leftOut(cmd.ErrOrStderr(), len(rs.Items), rs.Total)
				return nil
			}
			ts, err := c.Jobs(ctx, state, limit)
			if err != nil {
				return conn.explain(ctx, c, "list jobs", err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			return printTasks(w, state, ts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&state, "state", "archived", "queue state: "+strings.Join(admin.TaskStates, ", "))
	f.BoolVar(&failed, "failed", false, "list the failure history kept in SQL instead")
	f.BoolVar(&open, "open", false, "with --failed: only failures no administrator has handled")
	f.BoolVar(&runs, "runs", false, "list the recorded job runs instead")
	f.StringVar(&job, "job", "", "with --runs: only runs of this job (sync, reconcile, detect, notify, digest)")
	f.IntVar(&limit, "limit", 100, fmt.Sprintf("at most this many (1 to %d)", maxLimit))
	outputFlag(cmd, &output)
	return cmd
}

func printTasks(w io.Writer, state string, ts []admin.Task) error {
	rows := make([][]string, len(ts))
	for i, t := range ts {
		rows[i] = []string{t.ID, t.Queue, t.Type, t.State, fmt.Sprintf("%d/%d", t.Retried, t.MaxRetry), vnTimePtr(t.LastFailedAt),
			vnTimePtr(t.NextProcessAt), vnTimePtr(t.CompletedAt), tableCell(t.LastError)}
	}
	return printTable(w, "no "+state+" jobs", rows, "ID", "QUEUE", "TYPE", "STATE", "RETRIED", "LAST FAILED", "NEXT", "COMPLETED", "LAST ERROR")
}

func printFailed(w io.Writer, fs []admin.FailedTask) error {
	rows := make([][]string, len(fs))
	for i, f := range fs {
		handled := "open"
		if f.Resolution != "" {
			handled = f.Resolution + " by " + f.ResolvedBy + " " + vnTimePtr(f.ResolvedAt)
		}
		rows[i] = []string{strconv.FormatInt(f.ID, 10), f.TaskID, f.Type, vnTime(f.FailedAt), strconv.Itoa(f.Retried), handled,
			dash(f.Cause), tableCell(f.Error)}
	}
	return printTable(w, "no failed jobs recorded", rows, "ID", "TASK", "TYPE", "FAILED", "RETRIED", "HANDLED", "CAUSE", "ERROR")
}

func printRuns(w io.Writer, rs []admin.JobRun) error {
	rows := make([][]string, len(rs))
	for i, r := range rs {
		took := "-"
		if r.FinishedAt != nil {
			took = r.FinishedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
		}
		detail := r.Error
		if detail == "" {
			keys := make([]string, 0, len(r.Counts))
			for k, n := range r.Counts {
				if n != 0 {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for i, k := range keys {
				keys[i] = fmt.Sprintf("%s=%d", k, r.Counts[k])
			}
			detail = strings.Join(keys, " ")
		}
		rows[i] = []string{strconv.FormatInt(r.ID, 10), r.Job, dash(r.Schedule), r.Status, vnTime(r.StartedAt), took,
			dash(r.TaskID), tableCell(detail)}
	}
	return printTable(w, "no job runs recorded", rows, "ID", "JOB", "SCHEDULE", "STATUS", "STARTED", "TOOK", "TASK", "DETAIL")
}

// printTable writes rows under header, aligned; with no rows, empty instead.
func printTable(w io.Writer, empty string, rows [][]string, header ...string) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, empty)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func newJobsRetryCommand(conn *adminConn) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "retry {ID | --all-archived}",
		Short: "Run a failed job again now (admin token)",
		Long: `Run a scheduled, retry or archived job again now: it moves to pending and the
worker takes it. A job the queue no longer holds (past its archive retention)
is put back from its failure record in SQL. --all-archived retries every
archived job. The failure records are marked retried by the token's name.`,
		Example: `  dvcwatch jobs retry notification:42
  dvcwatch jobs retry --all-archived`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usageErrorf("%s: an ID or --all-archived, not both", cmd.CommandPath())
			case !all && len(args) != 1:
				return usageErrorf("%s: want one job ID (see dvcwatch jobs list) or --all-archived", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			if all {
				res, err := c.RetryAllArchived(ctx)
				if err != nil {
					return conn.explain(ctx, c, "retry the archived jobs", err)
				}
				if conn.json {
					return conn.printJSON(w)
				}
				if res.Retried == 0 {
					_, err = fmt.Fprintln(w, "no archived job to retry")
				} else {
					_, err = fmt.Fprintf(w, "retried %d archived jobs: now pending\n", res.Retried)
				}
				return err
			}
			id := args[0]
			res, err := c.RetryJob(ctx, id)
			if err != nil {
				return conn.explain(ctx, c, "retry job "+id, err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			if res.Requeued {
				_, err = fmt.Fprintf(w, "job %s: put back on the queue from its failure record (the queue no longer held it): now pending\n", id)
			} else {
				_, err = fmt.Fprintf(w, "job %s: retried: now pending\n", id)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all-archived", false, "retry every archived job")
	return cmd
}

func newJobsDeleteCommand(conn *adminConn) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a job from the queue, or close its failure record (admin token)",
		Long: `Delete a job that is not running from the queue, and mark its failure record in
SQL deleted by the token's name; a job the queue no longer holds only has its
failure record closed.`,
		Example: `  dvcwatch jobs delete notification:42`,
		Args:    exactArgs(1, "one job ID (see dvcwatch jobs list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			ctx, w := cmd.Context(), cmd.OutOrStdout()
			id := args[0]
			if err := c.DeleteJob(ctx, id); err != nil {
				return conn.explain(ctx, c, "delete job "+id, err)
			}
			if conn.json {
				return conn.printJSON(w)
			}
			_, err = fmt.Fprintf(w, "job %s: deleted\n", id)
			return err
		},
	}
}

// tableCell fits free text (an error) in one table cell: one line, at most 80
// characters; --json has it whole.
func tableCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:79]) + "…"
	}
	return s
}

func vnTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return vnTime(*t)
}
