package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

func newDetectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Check stored dossiers against their legal deadlines",
	}
	var path, at string
	var full bool
	run := &cobra.Command{
		Use:   "run",
		Short: "Run one detection pass in this process and print breaches per kind",
		Long: `Run one detection pass in this process: evaluate the stored dossiers against
their legal deadlines (recomputed from the procedure's limit, the calendar and
the paused time), record new breaches and resolve ended ones, decide who must be
told (notify.escalation, repeat_after, acknowledgements) and put one digest
email per recipient in the outbox. The worker (dvcwatch serve) sends them.

A pass looks at dossiers changed since the last pass, still open, or with an
unresolved breach; --full, or a last full sweep older than
detect.full_sweep_every, evaluates every dossier.

--now evaluates as of another time (Asia/Ho_Chi_Minh), e.g. to see what
tomorrow morning's pass will report; breaches are recorded as of that time.`,
		Example: `  dvcwatch detect run --config dvcwatch.yaml
  dvcwatch detect run --config dvcwatch.yaml --now "2026-03-02 08:00" --full`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			var now time.Time
			if at != "" {
				if now, err = parseMinute("--now", at); err != nil {
					return err
				}
			}
			svc, err := openServices(cmd, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			host, _ := os.Hostname()
			res, err := svc.Detector.Run(cmd.Context(), detect.Options{Now: now, Full: full, Holder: "detect run on " + host})
			if err != nil {
				return err
			}
			printDetectResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	configFlag(run, &path, true)
	run.Flags().StringVar(&at, "now", "", `evaluate as of this time, "YYYY-MM-DD HH:MM" (Asia/Ho_Chi_Minh; default: now)`)
	run.Flags().BoolVar(&full, "full", false, "evaluate every stored dossier, not only those that may have changed")
	cmd.AddCommand(run)
	return cmd
}

func printDetectResult(w io.Writer, r detect.Result) {
	pass := "incremental"
	if r.Full {
		pass = "full"
	}
	fmt.Fprintf(w, "%s pass: evaluated=%d new=%d updated=%d reopened=%d resolved=%d alerts=%d emails=%d\n",
		pass, r.Evaluated, total(r.New), r.Updated, r.Reopened, r.Resolved, r.Alerts, r.Notifications)
	if r.Notifications > 0 {
		fmt.Fprintf(w, "%d emails wait in the outbox; dvcwatch serve sends them\n", r.Notifications)
	}
	if r.Silenced > 0 {
		fmt.Fprintf(w, "silenced: %d breaches recorded and told to nobody, active silences matching them (dvcwatch silences list)\n", r.Silenced)
	}
	if r.Unevaluable > 0 {
		fmt.Fprintf(w, "not evaluated: %d dossiers (see the log for which and why; their breaches are kept)\n", r.Unevaluable)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tnew\topen\t")
	for _, k := range dvcwatch.BreachKinds() {
		if r.New[k] == 0 && r.Open[k] == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", k, r.New[k], r.Open[k])
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\n", total(r.New), total(r.Open))
	_ = tw.Flush()
}

func total(m map[dvcwatch.BreachKind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func newBreachesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "breaches",
		Short: "List and acknowledge recorded breaches",
	}
	var path, agency, kind, official, reason, sort, search, output string
	var all bool
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List breaches, the most late first (unresolved only unless --all), with the active silence muting each",
		Long: `List breaches from the store, the most late first (--sort due: the latest due
first; --sort detected: the most recently detected first), unresolved only
unless --all. A table says how many breaches it left out, from the total the
filters select; --output json prints {items, total, next_cursor} as the admin
API lists breaches. Times are Asia/Ho_Chi_Minh.`,
		Example: `  dvcwatch breaches list --config dvcwatch.yaml --kind overdue --limit 20
  dvcwatch breaches list --config dvcwatch.yaml --search 000.00.31.H99-260301-0001 --all --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The user's input is checked before the configuration is read.
			if kind != "" && !dvcwatch.BreachKind(kind).Valid() {
				return unknownValue("--kind", kind, "breach kind", config.BreachKindNames())
			}
			if !store.BreachSort(sort).Valid() {
				return unknownValue("--sort", sort, "order", []string{"late", "due", "detected"})
			}
			if limit < 1 || limit > 1000 {
				return usageErrorf("--limit %d: want 1 to 1000", limit)
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			svc, err := openServices(cmd, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			l, err := svc.DB.BreachPage(cmd.Context(), store.BreachFilter{
				OpenOnly: !all, Agency: agency, Kind: dvcwatch.BreachKind(kind), Official: official, Search: search,
				Sort: store.BreachSort(sort), Limit: limit,
			})
			if err != nil {
				return err
			}
			now := time.Now()
			silences, err := svc.DB.ActiveSilences(cmd.Context(), now)
			if err != nil {
				return err
			}
			if output == outputJSON {
				page := admin.Page[admin.Breach]{Items: make([]admin.Breach, len(l.Items)), Total: l.Total, NextCursor: l.Next}
				for i, b := range l.Items {
					page.Items[i] = admin.ListedBreach(b, svc.Directory, silences, now)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(page)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSEVERITY\tDOSSIER\tSTEP\tOFFICIAL\tDEPARTMENT\tDUE\tDETECTED\tRESOLVED\tSILENCED")
			for _, b := range l.Items {
				silenced := "-"
				if s, ok := dvcwatch.SilencedBy(silences, b, now); ok {
					silenced = "#" + strconv.FormatInt(s.ID, 10)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Kind, b.Severity, b.Key,
					step(b.StepSeq), dash(b.Official), dash(b.Department), vnTime(b.DueAt), vnTime(b.DetectedAt), vnTime(b.ResolvedAt),
					silenced)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			leftOut(cmd.ErrOrStderr(), len(l.Items), l.Total)
			return nil
		},
	}
	configFlag(list, &path, true)
	list.Flags().BoolVar(&all, "all", false, "include resolved breaches")
	list.Flags().StringVar(&agency, "agency", "", "only this agency (DonViXuLy code)")
	list.Flags().StringVar(&kind, "kind", "", "only this breach kind, e.g. overdue")
	list.Flags().StringVar(&official, "official", "", "only breaches attributed to this official id")
	list.Flags().StringVar(&search, "search", "", "only the breaches of the dossier with this code or receipt number")
	list.Flags().StringVar(&sort, "sort", string(store.SortLate), "order: late (most late first), due (latest due first) or detected (newest first)")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many (1 to 1000)")
	outputFlag(list, &output)

	var id int64
	ack := &cobra.Command{
		Use:   "ack",
		Short: "Acknowledge a breach for an official: mutes its repeats to them until its severity changes",
		Example: `  dvcwatch breaches ack --config dvcwatch.yaml --id 42 --official nguyen.van.a \
    --reason "Chờ kết quả thẩm định của Sở Tài nguyên và Môi trường"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			if id <= 0 {
				return usageErrorf("--id: required, the breach's ID from \"dvcwatch breaches list\"")
			}
			if official == "" {
				return usageErrorf("--official: required, the id of the official acknowledging")
			}
			if n := utf8.RuneCountInString(official); n > admin.MaxOfficialLength {
				return usageErrorf("--official: %d characters, at most %d: not a configured official's id", n, admin.MaxOfficialLength)
			}
			if n := utf8.RuneCountInString(reason); n > admin.MaxAckReasonLength {
				return usageErrorf("--reason: %d characters, at most %d", n, admin.MaxAckReasonLength)
			}
			if reason == "" {
				return usageErrorf("--reason: required, why the breach is acknowledged")
			}
			svc, err := openServices(cmd, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			if _, ok := svc.Directory.Person(official); !ok {
				return usageErrorf("--official %s: no such official in %s", official, path)
			}
			b, err := svc.DB.Acknowledge(cmd.Context(), id, official, reason, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "acknowledged breach %d (%s, %s, %s) for %s: repeats muted until its severity changes\n",
				b.ID, b.Kind, b.Key, b.Severity, official)
			return nil
		},
	}
	configFlag(ack, &path, true)
	ack.Flags().Int64Var(&id, "id", 0, "the breach's ID")
	ack.Flags().StringVar(&official, "official", "", "the official's id in the configuration")
	ack.Flags().StringVar(&reason, "reason", "", "why (kept with the acknowledgement)")
	cmd.AddCommand(list, ack)
	return cmd
}

func step(seq int) string {
	if seq == 0 {
		return "-"
	}
	return strconv.Itoa(seq)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func vnTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(sla.Location()).Format(minuteLayout)
}
