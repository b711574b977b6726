package breach

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// people is the configuration's officials as the rules see them: tran.van.b
// is in department TNMT, and steps may name her by display name.
type people struct{}

func (people) Official(_, name string) (string, string, bool) {
	switch strings.ToLower(norm.NFC.String(strings.Join(strings.Fields(name), " "))) {
	case "tran.van.b", "trần văn b":
		return "tran.van.b", "TNMT", true
	}
	return "", "", false
}

func rules(t *testing.T) Rules {
	t.Helper()
	cal, err := sla.LoadCalendar("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.NewScheduleCounting(cal, sla.DefaultOfficeHours(), sla.CountDates)
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]string{"P1": "1wd", "P5": "5wd", "P15D": "15d"}
	return Rules{Schedule: s, People: people{}, Limit: func(code string) (sla.Limit, bool) {
		l, ok := limits[code]
		if !ok {
			return sla.Limit{}, false
		}
		lim, err := sla.ParseLimit(l)
		if err != nil {
			panic(err)
		}
		return lim, true
	}}
}

// vn returns a wall-clock time in Asia/Ho_Chi_Minh.
func vn(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, sla.Location())
}

var key = dvcwatch.DossierKey{Source: "onestop", Code: "H01.2026.000123"}

// p5 is a 5-working-day dossier received Monday 2 March 2026 at opening. Day 1
// is Tuesday 3 March (the receipt day is not counted, Civil Code art. 147), so
// the legal due is Monday 9 March at the close of office, and the receipt
// promises that. Two progress entries: the one-stop desk's, then cb2's of the
// land department, due on the dossier's due date.
func p5(status dvcwatch.Status) dvcwatch.Dossier {
	return dvcwatch.Dossier{
		Key: key, ProcedureCode: "P5", Status: status, Agency: "UBND-XA",
		ReceivedAt: vn(2026, 3, 2, 7, 30), DueAt: vn(2026, 3, 9, 17, 0),
		Steps: []dvcwatch.Step{
			{Seq: 1, Department: "MC", Official: "cb1", StartedAt: vn(2026, 3, 2, 7, 30), FinishedAt: vn(2026, 3, 2, 9, 0), DueAt: vn(2026, 3, 2, 17, 0)},
			{Seq: 2, Department: "TNMT", Official: "cb2", StartedAt: vn(2026, 3, 2, 9, 0), FinishedAt: vn(2026, 3, 2, 9, 0), DueAt: vn(2026, 3, 9, 17, 0)},
		},
	}
}

func with(d dvcwatch.Dossier, f func(*dvcwatch.Dossier)) dvcwatch.Dossier {
	d.Steps = slices.Clone(d.Steps)
	f(&d)
	return d
}

// brief is what a test says of a breach: kind, severity, step and official.
func brief(b dvcwatch.Breach) string {
	s := fmt.Sprintf("%s/%s", b.Kind, b.Severity)
	if b.StepSeq > 0 {
		s += fmt.Sprintf("/step %d", b.StepSeq)
	}
	return s + "/" + b.Official
}

func evaluate(t *testing.T, r Rules, d dvcwatch.Dossier, now time.Time) []dvcwatch.Breach {
	t.Helper()
	bs, err := r.Evaluate(d, now)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return bs
}

func briefs(bs []dvcwatch.Breach) []string {
	var out []string
	for _, b := range bs {
		out = append(out, brief(b))
	}
	slices.Sort(out)
	return out
}

// TestEvaluate: one case per rule of the package comment, each naming what it
// follows.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	const W, C, I = "warning", "critical", "info"
	b := func(kind dvcwatch.BreachKind, sev, official string) string {
		return string(kind) + "/" + sev + "/" + official
	}
	step := func(seq int, sev, official string) string {
		return fmt.Sprintf("%s/%s/step %d/%s", dvcwatch.BreachStepOverdue, sev, seq, official)
	}
	tests := []struct {
		name    string
		byMin   bool
		pauses  bool
		d       dvcwatch.Dossier
		now     time.Time
		want    []string
		details map[dvcwatch.BreachKind]string // kind → a substring its detail must hold
	}{
		// The due is the appointment; compared by date (decided rules).
		{name: "open, days before the due date: nothing", d: p5(dvcwatch.StatusInProgress), now: vn(2026, 3, 4, 10, 0)},
		{name: "open on its due date, after hours: due soon, not overdue (by date)",
			d: p5(dvcwatch.StatusInProgress), now: vn(2026, 3, 9, 20, 0),
			want: []string{b(dvcwatch.BreachDueSoon, I, "cb2")}},
		{name: "open the day after the due date: overdue by 1 working day, no apology",
			d: p5(dvcwatch.StatusInProgress), now: vn(2026, 3, 10, 8, 0),
			want:    []string{b(dvcwatch.BreachNoApology, W, "cb2"), b(dvcwatch.BreachOverdue, W, "cb2"), step(2, W, "cb2")},
			details: map[dvcwatch.BreachKind]string{dvcwatch.BreachOverdue: "1 ngày làm việc"}},
		{name: "overdue more than two working days: critical (detect.escalate_after)",
			d: p5(dvcwatch.StatusInProgress), now: vn(2026, 3, 12, 8, 0),
			want: []string{b(dvcwatch.BreachNoApology, W, "cb2"), b(dvcwatch.BreachOverdue, C, "cb2"), step(2, C, "cb2")}},
		// End of processing: NgayKetThucXuLy, then the return; collecting late is the citizen's.
		{name: "processed on its due date, returned weeks later: on time",
			d: with(p5(dvcwatch.StatusReturned), func(d *dvcwatch.Dossier) {
				d.ProcessedAt, d.ReturnedAt = vn(2026, 3, 9, 16, 0), vn(2026, 3, 27, 9, 0)
			}), now: vn(2026, 4, 1, 9, 0)},
		{name: "processed the day after the due date: finished late, no apology",
			d:    with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) { d.ProcessedAt = vn(2026, 3, 10, 9, 0) }),
			now:  vn(2026, 3, 10, 10, 0),
			want: []string{b(dvcwatch.BreachFinishedLate, W, "cb2"), b(dvcwatch.BreachNoApology, W, "cb2"), step(2, W, "cb2")}},
		{name: "returned without NgayKetThucXuLy: the return ends processing",
			d:   with(p5(dvcwatch.StatusReturned), func(d *dvcwatch.Dossier) { d.ReturnedAt = vn(2026, 3, 9, 16, 0) }),
			now: vn(2026, 3, 10, 10, 0)},
		{name: "minute precision (an agency's option): 17:30 on the due date is late", byMin: true,
			d:    with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) { d.ProcessedAt = vn(2026, 3, 9, 17, 30) }),
			now:  vn(2026, 3, 10, 10, 0),
			want: []string{b(dvcwatch.BreachFinishedLate, W, "cb2"), b(dvcwatch.BreachNoApology, W, "cb2"), step(2, W, "cb2")}},
		{name: "judged against the appointment even when it is later than the law allows",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.DueAt, d.ProcessedAt = vn(2026, 3, 12, 17, 0), vn(2026, 3, 11, 9, 0)
				d.Steps[1].DueAt = d.DueAt
			}), now: vn(2026, 3, 12, 10, 0),
			want: []string{b(dvcwatch.BreachDueBeyondLimit, W, "cb2")}},
		{name: "no NgayHenTra: the computed legal due stands in, and says so",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.DueAt, d.ProcessedAt = time.Time{}, vn(2026, 3, 10, 9, 0)
			}), now: vn(2026, 3, 10, 10, 0),
			want:    []string{b(dvcwatch.BreachFinishedLate, W, "cb2"), b(dvcwatch.BreachNoApology, W, "cb2"), step(2, W, "cb2")},
			details: map[dvcwatch.BreachKind]string{dvcwatch.BreachFinishedLate: "hạn tính theo thời hạn luật định 5wd"}},
		{name: "calendar days: day 1 is the day after receipt; a Saturday end moves to Monday (Civil Code art. 147–148)",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.ProcedureCode, d.ReceivedAt, d.DueAt, d.Steps = "P15D", vn(2026, 4, 24, 8, 0), time.Time{}, nil
			}), now: vn(2026, 5, 12, 8, 0),
			want: []string{b(dvcwatch.BreachNoApology, W, ""), b(dvcwatch.BreachOverdue, W, "")}},
		{name: "calendar days: on time on Monday 11 May, the period's end",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.ProcedureCode, d.ReceivedAt, d.DueAt, d.Steps = "P15D", vn(2026, 4, 24, 8, 0), time.Time{}, nil
				d.ProcessedAt = vn(2026, 5, 11, 16, 0)
			}), now: vn(2026, 5, 12, 8, 0)},
		// Supplements (Decree 118/2025/NĐ-CP art. 19(5)) and payment (status 6).
		{name: "a supplement round restarts the limit from the complete documents",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 6, 10, 0)}}
				d.ProcessedAt = vn(2026, 3, 13, 16, 0)                                 // day 5 after Friday 6 March
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: "cb1", Department: "MC"}} // no step due
			}), now: vn(2026, 3, 16, 8, 0)},
		{name: "the round's new appointment (NgayHenTraMoi) wins over the restart",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 6, 10, 0),
					DueBefore: d.DueAt, DueAfter: vn(2026, 3, 11, 17, 0)}}
				d.ProcessedAt = vn(2026, 3, 12, 9, 0)
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: "cb1", Department: "MC"}} // no step due
			}), now: vn(2026, 3, 16, 8, 0),
			want: []string{b(dvcwatch.BreachFinishedLate, W, "cb1"), b(dvcwatch.BreachNoApology, W, "cb1")}},
		{name: "a procedure configured to pause: one office day paused adds one working day", pauses: true,
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 4, 9, 0)}}
				d.ProcessedAt = vn(2026, 3, 10, 16, 0)
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: "cb1", Department: "MC"}} // no step due
			}), now: vn(2026, 3, 11, 8, 0)},
		{name: "waiting for the citizen's documents: the clock stands still",
			d: with(p5(dvcwatch.StatusAwaitingSupplement), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 5, 9, 0)}}
			}), now: vn(2026, 3, 20, 8, 0)},
		{name: "supplement requested after the due date: late already, and the request late",
			d: with(p5(dvcwatch.StatusAwaitingSupplement), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 10, 9, 0)}}
			}), now: vn(2026, 3, 11, 8, 0),
			want: []string{b(dvcwatch.BreachLateSupplementRequest, W, "cb2"), b(dvcwatch.BreachNoApology, W, "cb2"),
				b(dvcwatch.BreachOverdue, W, "cb2"), step(2, W, "cb2")}},
		{name: "supplement requested on the 3rd working day after reception: in time",
			d: with(p5(dvcwatch.StatusAwaitingSupplement), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 5, 16, 0)}}
			}), now: vn(2026, 3, 6, 8, 0)},
		{name: "supplement requested on the 4th working day: late_supplement_request (art. 19(5): 03 working days)",
			d: with(p5(dvcwatch.StatusAwaitingSupplement), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 6, 8, 0)}}
			}), now: vn(2026, 3, 6, 9, 0),
			want: []string{b(dvcwatch.BreachLateSupplementRequest, W, "cb2")}},
		{name: "two supplement requests: supplemented_twice (Decision 766/QĐ-TTg)",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.Supplements = []dvcwatch.Supplement{
					{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 3, 15, 0)},
					{Seq: 2, RequestedAt: vn(2026, 3, 4, 9, 0), ReturnedAt: vn(2026, 3, 4, 15, 0)},
				}
			}), now: vn(2026, 3, 5, 8, 0),
			want: []string{b(dvcwatch.BreachSupplementedTwice, W, "cb2")}},
		{name: "two office days waiting for payment add two working days",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.PaymentWaits = []dvcwatch.Wait{{Start: vn(2026, 3, 5, 7, 30), End: vn(2026, 3, 6, 17, 0)}}
				d.ProcessedAt = vn(2026, 3, 11, 16, 0)
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: "cb1", Department: "MC"}} // no step due
			}), now: vn(2026, 3, 12, 8, 0)},
		{name: "waiting for payment now: the clock stands still",
			d: with(p5(dvcwatch.StatusAwaitingPayment), func(d *dvcwatch.Dossier) {
				d.PaymentWaits = []dvcwatch.Wait{{Start: vn(2026, 3, 6, 9, 0)}}
			}), now: vn(2026, 3, 16, 8, 0)},
		// Apologies (art. 19(6)).
		{name: "apology on the last working day before the due: timely; late stays late; its new date missed too",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: vn(2026, 3, 6, 16, 0), NewDueAt: vn(2026, 3, 11, 17, 0)}}
				d.ProcessedAt = vn(2026, 3, 12, 9, 0)
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: "cb1", Department: "MC"}} // no step due
			}), now: vn(2026, 3, 12, 10, 0),
			want: []string{b(dvcwatch.BreachFinishedLate, W, "cb1"), b(dvcwatch.BreachNewDateMissed, W, "cb1")}},
		{name: "apology on the due date itself: late_apology; its new date kept",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: vn(2026, 3, 9, 8, 0), NewDueAt: vn(2026, 3, 11, 17, 0)}}
				d.ProcessedAt = vn(2026, 3, 11, 9, 0)
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: "cb1", Department: "MC"}} // no step due
			}), now: vn(2026, 3, 12, 10, 0),
			want: []string{b(dvcwatch.BreachFinishedLate, W, "cb1"), b(dvcwatch.BreachLateApology, W, "cb1")}},
		{name: "two new appointments: rescheduled_twice",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.Apologies = []dvcwatch.Apology{
					{Seq: 1, IssuedAt: vn(2026, 3, 5, 9, 0), NewDueAt: vn(2026, 3, 12, 17, 0)},
					{Seq: 2, IssuedAt: vn(2026, 3, 6, 9, 0), NewDueAt: vn(2026, 3, 16, 17, 0)},
				}
			}), now: vn(2026, 3, 6, 10, 0),
			want: []string{b(dvcwatch.BreachRescheduledTwice, W, "cb2")}},
		// Refusals and stops (art. 19(3)); withdrawal is the citizen's.
		{name: "stopped after the due date: refused_late",
			d:   with(p5(dvcwatch.StatusStopped), func(d *dvcwatch.Dossier) { d.RefusedAt = vn(2026, 3, 10, 9, 0) }),
			now: vn(2026, 3, 10, 10, 0), want: []string{b(dvcwatch.BreachRefusedLate, W, "cb2")}},
		{name: "refused on the due date: in time",
			d:   with(p5(dvcwatch.StatusRefused), func(d *dvcwatch.Dossier) { d.RefusedAt = vn(2026, 3, 9, 16, 0) }),
			now: vn(2026, 3, 10, 10, 0)},
		{name: "withdrawn: nothing",
			d: with(p5(dvcwatch.StatusWithdrawn), func(d *dvcwatch.Dossier) {}), now: vn(2026, 3, 20, 10, 0)},
		// Online submissions (art. 17(2)(c): 08 working hours).
		{name: "online submission unreceived after 8 working hours: not_received",
			d: dvcwatch.Dossier{Key: key, Status: dvcwatch.StatusSubmitted, Channel: dvcwatch.ChannelOnline,
				SubmittedAt: vn(2026, 3, 2, 8, 0)}, now: vn(2026, 3, 3, 9, 0),
			want: []string{b(dvcwatch.BreachNotReceived, W, "")}},
		{name: "online submission unreceived for 7.5 working hours: nothing yet",
			d: dvcwatch.Dossier{Key: key, Status: dvcwatch.StatusSubmitted, Channel: dvcwatch.ChannelOnline,
				SubmittedAt: vn(2026, 3, 2, 8, 0)}, now: vn(2026, 3, 3, 8, 0)},
		{name: "online submission received two days late: history, which the desk can no longer act on",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.Channel, d.SubmittedAt = dvcwatch.ChannelOnline, vn(2026, 2, 26, 8, 0)
			}), now: vn(2026, 3, 4, 10, 0)},
		// Steps as progress updates.
		{name: "a step ends when the next begins; the last entry of an open dossier is in progress",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.Steps = []dvcwatch.Step{
					{Seq: 1, Official: "cb1", Department: "MC", FinishedAt: vn(2026, 3, 2, 9, 0), DueAt: vn(2026, 3, 2, 17, 0)},
					{Seq: 2, Official: "cb2", Department: "TNMT", FinishedAt: vn(2026, 3, 2, 9, 30), DueAt: vn(2026, 3, 4, 17, 0)},
					// pushed on the step's due date: on time; and it names cb3, now in progress
					{Seq: 3, Official: "cb3", Department: "LD", FinishedAt: vn(2026, 3, 4, 15, 0), DueAt: vn(2026, 3, 5, 17, 0)},
				}
			}), now: vn(2026, 3, 6, 9, 0),
			want: []string{step(3, W, "cb3")}},
		{name: "consecutive updates of one official and step due are one step",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.Steps = []dvcwatch.Step{
					{Seq: 1, Official: "cb2", Department: "TNMT", FinishedAt: vn(2026, 3, 3, 9, 0), DueAt: vn(2026, 3, 4, 17, 0)},
					{Seq: 2, Official: "cb2", Department: "TNMT", FinishedAt: vn(2026, 3, 5, 9, 0), DueAt: vn(2026, 3, 4, 17, 0)},
					{Seq: 3, Official: "cb3", Department: "LD", FinishedAt: vn(2026, 3, 6, 9, 0), DueAt: vn(2026, 3, 9, 17, 0)},
				}
			}), now: vn(2026, 3, 6, 10, 0),
			want: []string{step(1, W, "cb2")}},
		{name: "a step named in decomposed Unicode with no department: its official's, from the configuration",
			d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.Steps = []dvcwatch.Step{{Seq: 1, Official: norm.NFD.String("Trần  Văn B"), DueAt: vn(2026, 3, 4, 17, 0)}}
			}), now: vn(2026, 3, 10, 9, 0),
			want: []string{b(dvcwatch.BreachNoApology, W, "tran.van.b"), b(dvcwatch.BreachOverdue, W, "tran.van.b"),
				step(1, C, "tran.van.b")}},
		{name: "a finished dossier's delay is the step's that held it when the due passed",
			d: with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
				d.Steps = []dvcwatch.Step{
					{Seq: 1, Official: "cb2", Department: "TNMT", StartedAt: vn(2026, 3, 2, 9, 0), DueAt: vn(2026, 3, 6, 17, 0)},
					{Seq: 2, Official: "cb3", Department: "LD", StartedAt: vn(2026, 3, 10, 9, 0), DueAt: vn(2026, 3, 11, 17, 0)},
				}
				d.ProcessedAt = vn(2026, 3, 11, 9, 0)
			}), now: vn(2026, 3, 12, 10, 0),
			want: []string{b(dvcwatch.BreachFinishedLate, W, "cb2"), b(dvcwatch.BreachNoApology, W, "cb2"), step(1, W, "cb2")}},
		// The receipt's promise against the law, by date.
		{name: "a receipt promising 17:00 on the legal due date is not beyond the limit",
			d:   with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) { d.DueAt = vn(2026, 3, 9, 23, 59) }),
			now: vn(2026, 3, 4, 10, 0)},
		{name: "a receipt promising the day after the legal due: due_beyond_limit",
			d:   with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) { d.DueAt = vn(2026, 3, 10, 17, 0) }),
			now: vn(2026, 3, 4, 10, 0), want: []string{b(dvcwatch.BreachDueBeyondLimit, W, "cb2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rules(t)
			r.ByMinute = tt.byMin
			if tt.pauses {
				r.SupplementPauses = func(string) bool { return true }
			}
			bs := evaluate(t, r, tt.d, tt.now)
			if got, want := briefs(bs), slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
				t.Errorf("breaches\n got %q\nwant %q", got, want)
			}
			for kind, sub := range tt.details {
				found := false
				for _, b := range bs {
					if b.Kind == kind {
						found = true
						if !strings.Contains(b.Detail, sub) {
							t.Errorf("%s detail %q lacks %q", kind, b.Detail, sub)
						}
					}
				}
				if !found {
					t.Errorf("no %s breach", kind)
				}
			}
		})
	}
}

// TestEvaluateTimes: the due and start times breaches carry are stable and
// say when lateness began: the day after the due date.
func TestEvaluateTimes(t *testing.T) {
	t.Parallel()
	r := rules(t)
	bs := evaluate(t, r, p5(dvcwatch.StatusInProgress), vn(2026, 3, 11, 9, 0))
	again := evaluate(t, r, p5(dvcwatch.StatusInProgress), vn(2026, 3, 11, 15, 0))
	for i, b := range bs {
		if b.Kind == dvcwatch.BreachOverdue {
			if !b.StartedAt.Equal(vn(2026, 3, 10, 0, 0)) || !b.DueAt.Equal(vn(2026, 3, 9, 17, 0)) {
				t.Errorf("overdue started %s, due %s; want the day after the due date, and the appointment", b.StartedAt, b.DueAt)
			}
		}
		if !b.StartedAt.Equal(again[i].StartedAt) || !b.DueAt.Equal(again[i].DueAt) || b.Fingerprint != again[i].Fingerprint {
			t.Errorf("%s moved between passes: %+v then %+v", b.Kind, b, again[i])
		}
	}
	due := evaluate(t, r, p5(dvcwatch.StatusInProgress), vn(2026, 3, 9, 9, 0))
	if len(due) != 1 || due[0].Kind != dvcwatch.BreachDueSoon || !due[0].StartedAt.Equal(vn(2026, 3, 6, 16, 30)) {
		t.Errorf("due soon = %+v; want one, from Friday 16:30 (8 working hours before Monday's close)", due)
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	r := rules(t)
	if _, err := (Rules{}).Evaluate(p5(dvcwatch.StatusInProgress), vn(2026, 3, 4, 9, 0)); err == nil {
		t.Error("no schedule: want an error")
	}
	if _, err := r.Evaluate(with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) { d.Status = 42 }), vn(2026, 3, 4, 9, 0)); err == nil {
		t.Error("unknown status: want an error")
	}
	backwards := with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
		d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 4, 9, 0), ReturnedAt: vn(2026, 3, 3, 9, 0)}}
	})
	if _, err := r.Evaluate(backwards, vn(2026, 3, 5, 9, 0)); err == nil || !strings.Contains(err.Error(), "before it was requested") {
		t.Errorf("supplement returned before requested: err = %v", err)
	}
}
