package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/breach"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// dossier show reads the store directly, as breaches list does, rather than
// through the admin API as jobs and schedules do: it only reads, it must
// work while no server runs (the moment an operator digs into one dossier
// is often when something is down), and the rules' explanation it prints
// is the Go value, rendered in the words of calendar due.
func newDossierCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dossier",
		Short: "Show a dossier as the admin console's page does",
	}
	var path, source string
	show := &cobra.Command{
		Use:   "show CODE",
		Short: "Print a dossier: facts, the due and how it was computed, history, steps, breaches and emails",
		Long: `Print everything dvcwatch knows of one dossier, as the admin console's
dossier page shows it: its facts (the applicant masked as the mails mask it),
the due the rules judge it against and how they found it, then the legal due
in the words of "dvcwatch calendar due" (every non-working day skipped, with
its name), its status history, payment waits, steps as the rules read the
progress updates, supplement rounds, apologies, its breaches (open and
resolved, with the silence muting each and its acknowledgements) and every
email that told of them. Times are in Asia/Ho_Chi_Minh.

The code is looked up in every source; when several hold it (the one-stop
system and the national portal's mirror), the source of truth is shown and
the others named: --source picks one. It reads the database of --config
directly, so it needs no running server.`,
		Example: `  dvcwatch dossier show 000.05.31.H99-260423-0001 --config dvcwatch.yaml
  dvcwatch dossier show 000.05.31.H99-260423-0001 --source dvcqg --config dvcwatch.yaml`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("dossier show: want one dossier code (MaHoSo), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			if source != "" {
				var names []string
				for _, c := range cfg.Connectors {
					names = append(names, c.Name)
				}
				if !slices.Contains(names, source) {
					return unknownValue("--source", source, "source", names)
				}
			}
			code := norm.NFC.String(strings.TrimSpace(args[0]))
			if code == "" {
				return usageErrorf("dossier show: the dossier code is empty")
			}
			svc, err := openServices(cmd, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			key, others, err := findDossier(cmd, svc, cfg, code, source)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := svc.DB.DossierFile(ctx, key)
			if err != nil {
				return err
			}
			now := time.Now()
			silences, err := svc.DB.ActiveSilences(ctx, now)
			if err != nil {
				return err
			}
			rules := svc.Detector.Rules(f.Dossier.Agency)
			x, xerr := rules.Explain(f.Dossier)
			return writeDossier(cmd.OutOrStdout(), dossierReport{
				file: f, others: others, names: svc.Directory, explanation: x, explainErr: xerr,
				hours: rules.Schedule.Hours(), silences: silences, now: now,
			})
		},
	}
	configFlag(show, &path, true)
	show.Flags().StringVar(&source, "source", "", "the connector the dossier came from (default: the source of truth among those holding the code)")
	cmd.AddCommand(show)
	return cmd
}

// findDossier returns the key of the dossier to show, and the other sources
// holding its code. Without source it prefers a source that mirrors none.
func findDossier(cmd *cobra.Command, svc *worker.Services, cfg *config.Config, code, source string) (dvcwatch.DossierKey, []string, error) {
	ds, err := svc.DB.DossiersByCode(cmd.Context(), code)
	if err == nil && len(ds) == 0 && strings.ToUpper(code) != code {
		ds, err = svc.DB.DossiersByCode(cmd.Context(), strings.ToUpper(code)) // typed in lower case
	}
	if err != nil {
		return dvcwatch.DossierKey{}, nil, err
	}
	var keys []string
	for _, d := range ds {
		keys = append(keys, d.Key.String())
	}
	if len(ds) == 0 {
		return dvcwatch.DossierKey{}, nil, usageErrorf("dossier %q: not found in any source", code)
	}
	mirror := map[string]bool{}
	for _, c := range cfg.Connectors {
		mirror[c.Name] = c.MirrorOf != ""
	}
	pick := -1
	for i, d := range ds {
		if (source != "" && d.Key.Source == source) || (source == "" && (pick < 0 || mirror[ds[pick].Key.Source] && !mirror[d.Key.Source])) {
			pick = i
		}
	}
	if pick < 0 {
		return dvcwatch.DossierKey{}, nil, usageErrorf("dossier %s/%s: not found; found: %s", source, code, strings.Join(keys, ", "))
	}
	var others []string
	for i, d := range ds {
		if i != pick {
			others = append(others, d.Key.Source)
		}
	}
	return ds[pick].Key, others, nil
}

// dossierReport is what dossier show prints.
type dossierReport struct {
	file        store.DossierFile
	others      []string
	names       *directory.Directory
	explanation breach.Explanation
	explainErr  error
	hours       sla.OfficeHours
	silences    []dvcwatch.Silence
	now         time.Time
}

func writeDossier(w io.Writer, r dossierReport) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	d := r.file.Dossier
	mask := email.NewMasker(d.Applicant)
	agency := d.Agency
	person := func(id string) string { return withCode(mask.Text(r.names.OfficialName(id)), mask.Text(id)) }
	department := func(code string) string { return withCode(r.names.DepartmentName(agency, code), code) }

	also := ""
	if len(r.others) > 0 {
		also = " (also in " + strings.Join(r.others, ", ") + ": --source " + r.others[0] + ")"
	}
	p("dossier: %s%s", d.Key, also)
	p("procedure: %s", withCode(mask.Text(d.ProcedureName), d.ProcedureCode))
	if d.FieldCode != "" || d.FieldName != "" {
		p("field: %s", withCode(d.FieldName, d.FieldCode))
	}
	p("agency: %s", withCode(r.names.AgencyName(agency), agency))
	raw := ""
	if d.RawStatus != "" {
		raw = fmt.Sprintf("; %q at the source", mask.Text(d.RawStatus))
	}
	p("status: %s [%d %s%s]", d.Status.Vietnamese(), int(d.Status), d.Status, raw)
	p("receipt: %s", dash(d.ReceiptNo))
	p("channel: %s", dash(d.Channel.Vietnamese()))
	applicant := slices.DeleteFunc([]string{d.ApplicantKind.Vietnamese(), email.MaskName(d.Applicant.Name), email.MaskPhone(d.Applicant.Phone)},
		func(s string) bool { return s == "" })
	p("applicant: %s (masked)", dash(strings.Join(applicant, ", ")))
	p("submitted: %s", vnTime(d.SubmittedAt))
	p("received: %s", vnTime(d.ReceivedAt))
	if d.DueAt.IsZero() {
		p("appointment: none on the receipt")
	} else {
		p("appointment: %s", vnTime(d.DueAt))
	}
	for _, t := range []struct {
		what string
		at   time.Time
	}{{"processed", d.ProcessedAt}, {"returned", d.ReturnedAt}, {"refused", d.RefusedAt}} {
		if !t.at.IsZero() {
			p("%s: %s", t.what, vnTime(t.at))
		}
	}
	p("updated at the source: %s", vnTime(d.SourceUpdatedAt))
	p("times: Asia/Ho_Chi_Minh")

	p("")
	if r.explainErr != nil {
		p("the due could not be worked out: %v", r.explainErr)
	} else if err := writeDue(bw, r.explanation, agency, r.hours); err != nil {
		return err
	}

	p("")
	p("status history:")
	for _, e := range r.file.Events {
		from := "first seen:"
		if e.From != 0 {
			from = fmt.Sprintf("%d %s →", int(e.From), e.From.Vietnamese())
		}
		p("  %s  %s %d %s", vnTime(e.At), from, int(e.To), e.To.Vietnamese())
	}
	if len(r.file.Events) == 0 {
		p("  none recorded")
	}
	if len(d.PaymentWaits) > 0 {
		p("payment waits:")
		for _, w := range d.PaymentWaits {
			end := "ongoing"
			if !w.End.IsZero() {
				end = vnTime(w.End)
			}
			p("  %s .. %s", vnTime(w.Start), end)
		}
	}

	p("")
	var rows [][]string
	for _, s := range r.explanation.Steps {
		seq := fmt.Sprint(s.Seq)
		if s.InProgress {
			seq += "*"
		}
		rows = append(rows, []string{seq, person(s.Official), department(s.Department), vnTime(s.Started), vnTime(s.Due),
			vnTime(s.End), fmt.Sprint(len(s.Updates))})
	}
	table(bw, "steps (as the rules read the progress updates; * in progress):",
		[]string{"STEP", "OFFICIAL", "DEPARTMENT", "STARTED", "STEP DUE", "ENDED", "UPDATES"}, rows)

	p("")
	p("supplements:")
	for _, s := range d.Supplements {
		line := fmt.Sprintf("  %d  requested %s, documents complete %s", s.Seq, vnTime(s.RequestedAt), vnTime(s.ReturnedAt))
		if !s.DueBefore.IsZero() {
			line += ", due before " + vnTime(s.DueBefore)
		}
		if !s.DueAfter.IsZero() {
			line += ", new due " + vnTime(s.DueAfter)
		}
		p("%s", line)
	}
	if len(d.Supplements) == 0 {
		p("  none")
	}
	p("apologies:")
	for _, a := range d.Apologies {
		line := fmt.Sprintf("  %d  issued %s, new date %s", a.Seq, vnTime(a.IssuedAt), vnTime(a.NewDueAt))
		if a.IssuedBy != "" {
			line += ", by " + mask.Text(a.IssuedBy)
		}
		if a.Reason != "" {
			line += ": " + mask.Text(a.Reason)
		}
		p("%s", line)
	}
	if len(d.Apologies) == 0 {
		p("  none")
	}

	p("")
	rows = nil
	for _, b := range r.file.Breaches {
		resolved := vnTime(b.ResolvedAt)
		if b.ResolvedReason != "" {
			resolved += " (" + string(b.ResolvedReason) + ")"
		}
		silenced := "-"
		if s, ok := dvcwatch.SilencedBy(r.silences, b, r.now); ok && b.ResolvedAt.IsZero() {
			silenced = fmt.Sprintf("#%d until %s", s.ID, vnTime(s.EndsAt))
		}
		rows = append(rows, []string{fmt.Sprint(b.ID), string(b.Kind), string(b.Severity), step(b.StepSeq), person(b.Official),
			department(b.Department), vnTime(b.DueAt), vnTime(b.DetectedAt), resolved, silenced})
	}
	table(bw, "breaches:", []string{"ID", "KIND", "SEVERITY", "STEP", "OFFICIAL", "DEPARTMENT", "DUE", "DETECTED", "RESOLVED", "SILENCED"}, rows)
	for _, a := range r.file.Acks {
		p("  breach %d acknowledged by %s at %s (%s): %s", a.BreachID, person(a.Official), vnTime(a.At), a.Severity, mask.Text(a.Reason))
	}

	p("")
	rows = nil
	for _, e := range r.file.Emails {
		ids := make([]string, len(e.Breaches))
		for i, id := range e.Breaches {
			ids[i] = fmt.Sprint(id)
		}
		rows = append(rows, []string{fmt.Sprint(e.ID), string(e.Kind), person(e.Recipient), emailState(e.Notification),
			vnTime(e.CreatedAt), vnTime(e.SentAt), strings.Join(ids, ","), mask.Text(e.Subject)})
	}
	table(bw, "emails that told of them:", []string{"ID", "KIND", "RECIPIENT", "STATE", "CREATED", "SENT", "BREACHES", "SUBJECT"}, rows)
	return bw.Flush()
}

// table prints title, then the rows under header, indented, or "none".
func table(w io.Writer, title string, header []string, rows [][]string) {
	fmt.Fprintln(w, title)
	if len(rows) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range append([][]string{header}, rows...) {
		fmt.Fprintln(tw, "  "+strings.Join(row, "\t"))
	}
	_ = tw.Flush() // w is a bufio.Writer: its error shows at its Flush
}

// writeDue prints which due the rules judge the dossier against, the steps
// by which they found it, and the legal due as calendar due prints it.
func writeDue(w *bufio.Writer, x breach.Explanation, agency string, h sla.OfficeHours) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	by := "by date (finished on the due date is on time)"
	if x.ByMinute {
		by = "to the minute"
	}
	switch x.Basis {
	case breach.BasisNone:
		p("judged against: no due (%s)", noDue(x))
	default:
		p("judged against: %s, %s; lateness compared %s", vnTime(x.Due), basis(x), by)
	}
	for i, m := range x.Moves {
		p("  %d. %s", i+1, moveLine(m, x))
	}
	switch {
	case !x.WaitingSince.IsZero():
		p("clock: stands still since %s", vnTime(x.WaitingSince))
	case x.Stopped:
		p("clock: stands still since a time the data does not say (waiting for the citizen): not judged overdue meanwhile")
	}
	if x.Legal == nil {
		if !x.LimitKnown {
			p("legal due: the procedure's limit is not configured (procedures[].limit)")
		}
		return nil
	}
	from := "the receipt"
	if x.CountRound > 0 {
		from = fmt.Sprintf("supplement round %d", x.CountRound)
	}
	p("")
	p("legal due, counted from %s (dvcwatch calendar due --config FILE --agency %s --received %q --limit %s prints the same):",
		from, agency, x.Legal.Received.Format(minuteLayout), x.Legal.Limit)
	return writeComputation(w, *x.Legal, h)
}

func basis(x breach.Explanation) string {
	switch x.Basis {
	case breach.BasisAppointment:
		return "the receipt's appointment (NgayHenTra)"
	case breach.BasisComputed:
		return "the computed legal due (the portal gave no appointment)"
	case breach.BasisSupplementAppointment:
		return fmt.Sprintf("supplement round %d's new appointment (NgayHenTraMoi)", x.Round)
	case breach.BasisRestart:
		return fmt.Sprintf("the limit restarted from supplement round %d's complete documents", x.Round)
	}
	return string(x.Basis)
}

func noDue(x breach.Explanation) string {
	if len(x.Moves) == 0 && x.CountFrom.IsZero() {
		return "not received, or withdrawn: not judged against a due"
	}
	return "no appointment on the receipt and no configured limit for the procedure"
}

// moveLine says one step by which the rules found the due.
func moveLine(m breach.Move, x breach.Explanation) string {
	moved := func(what string) string {
		if m.Before.Equal(m.Due) {
			return fmt.Sprintf("%s %s .. %s (%s of office time): began after the due, adds nothing (%s)",
				what, vnTime(m.Start), vnTime(m.End), clock(m.Paused), vnTime(m.Due))
		}
		return fmt.Sprintf("%s %s .. %s (%s of office time): +%s, %s → %s",
			what, vnTime(m.Start), vnTime(m.End), clock(m.Paused), plural(m.AddedDays, "working day"), vnTime(m.Before), vnTime(m.Due))
	}
	switch m.Kind {
	case breach.MoveAppointment:
		return "the receipt's appointment (NgayHenTra): " + vnTime(m.Due)
	case breach.MoveComputed:
		return fmt.Sprintf("no appointment on the receipt: the legal due %s counted from the receipt %s: %s", x.Limit, vnTime(m.Start), vnTime(m.Due))
	case breach.MoveSupplementAppointment:
		complete := ""
		if !m.End.IsZero() {
			complete = ", documents complete " + vnTime(m.End)
		}
		return fmt.Sprintf("supplement round %d (requested %s%s): its new appointment (NgayHenTraMoi) replaces %s: %s",
			m.Round, vnTime(m.Start), complete, vnTime(m.Before), vnTime(m.Due))
	case breach.MoveSupplementWaiting:
		return fmt.Sprintf("supplement round %d requested %s, documents not complete: the clock stands still", m.Round, vnTime(m.Start))
	case breach.MoveRestart:
		return fmt.Sprintf("supplement round %d, documents complete %s: the limit %s restarts (Decree 118/2025/NĐ-CP art. 19(5)): %s → %s",
			m.Round, vnTime(m.End), x.Limit, vnTime(m.Before), vnTime(m.Due))
	case breach.MoveSupplementPause:
		return moved(fmt.Sprintf("supplement round %d paused the clock", m.Round))
	case breach.MovePaymentPause:
		return moved("waiting for payment paused the clock")
	case breach.MovePaymentWaiting:
		return fmt.Sprintf("waiting for payment since %s: the clock stands still; the due moves once it ends", vnTime(m.Start))
	case breach.MovePaymentBeforeCount:
		return fmt.Sprintf("waiting for payment %s .. %s, before the count restarted: not counted", vnTime(m.Start), vnTime(m.End))
	}
	return fmt.Sprintf("%s: %s", m.Kind, vnTime(m.Due))
}

// withCode writes a name with its code, e.g. "Phòng Kinh tế [KT]"; the code
// alone when the name is the code or unknown.
func withCode(name, code string) string {
	switch {
	case code == "" && name == "":
		return "-"
	case code == "" || name == code:
		return cmp.Or(name, code)
	case name == "":
		return code
	}
	return name + " [" + code + "]"
}

// emailState is an email's delivery state, as the API says it.
func emailState(n dvcwatch.Notification) string {
	switch {
	case !n.SentAt.IsZero():
		return "sent"
	case !n.FailedAt.IsZero():
		return "failed"
	case !n.SendingAt.IsZero():
		return "sending"
	}
	return "pending"
}
