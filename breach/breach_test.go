package breach

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

func rules(t *testing.T) Rules {
	t.Helper()
	cal, err := sla.LoadCalendar("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.NewSchedule(cal, sla.DefaultOfficeHours())
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]string{"P1": "1wd", "P5": "5wd", "P10": "10wd", "P15D": "15d"}
	return Rules{Schedule: s, Limit: func(code string) (sla.Limit, bool) {
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

var key = dvcwatch.DossierKey{Source: "dvcqg", Code: "H01.2026.000123"}

// p5 is a 5-working-day dossier received Monday 2 March 2026 at opening; its legal
// due is Friday 6 March 17:00 (5 × 7.5 office hours).
func p5(status dvcwatch.Status) dvcwatch.Dossier {
	return dvcwatch.Dossier{
		Key: key, ProcedureCode: "P5", Status: status,
		ReceivedAt: vn(2026, 3, 2, 7, 30), DueAt: vn(2026, 3, 6, 17, 0),
		Applicant: dvcwatch.Applicant{Name: "Nguyễn Văn A", Phone: "0900000000"},
		Steps: []dvcwatch.Step{
			{Seq: 1, Department: "Bộ phận một cửa", Official: "cb1", StartedAt: vn(2026, 3, 2, 7, 30), FinishedAt: vn(2026, 3, 2, 9, 0)},
			{Seq: 2, Department: "Phòng TN-MT", Official: "cb2", StartedAt: vn(2026, 3, 2, 9, 0)},
		},
	}
}

type want struct {
	kind      dvcwatch.BreachKind
	sev       dvcwatch.Severity
	step      int
	startedAt time.Time
	dueAt     time.Time
}

func (w want) String() string {
	f := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(sla.Location()).Format(time.DateTime)
	}
	return fmt.Sprintf("%s/%s step %d started %s due %s", w.kind, w.sev, w.step, f(w.startedAt), f(w.dueAt))
}

func got(bs []dvcwatch.Breach) []string {
	var out []string
	for _, b := range bs {
		out = append(out, want{b.Kind, b.Severity, b.StepSeq, b.StartedAt, b.DueAt}.String())
	}
	sort.Strings(out)
	return out
}

func wanted(ws []want) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	sort.Strings(out)
	return out
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	r := rules(t)
	due := vn(2026, 3, 6, 17, 0)
	W, C, I := dvcwatch.SeverityWarning, dvcwatch.SeverityCritical, dvcwatch.SeverityInfo
	with := func(d dvcwatch.Dossier, f func(*dvcwatch.Dossier)) dvcwatch.Dossier { f(&d); return d }

	tests := []struct {
		name string
		d    dvcwatch.Dossier
		now  time.Time
		want []want
	}{
		{"on time, early", p5(dvcwatch.StatusInProgress), vn(2026, 3, 3, 10, 0), nil},
		{"on time, just before due soon", p5(dvcwatch.StatusInProgress), vn(2026, 3, 5, 16, 29), nil},
		{"due soon: 8 working hours left from Thursday 16:30", p5(dvcwatch.StatusInProgress), vn(2026, 3, 6, 9, 0),
			[]want{{dvcwatch.BreachDueSoon, I, 0, vn(2026, 3, 5, 16, 30), due}}},
		{"due soon by share: 80% of 10 working days used at Wednesday's close",
			with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.ProcedureCode, d.DueAt = "P10", vn(2026, 3, 13, 17, 0)
			}), vn(2026, 3, 12, 8, 0),
			[]want{{dvcwatch.BreachDueSoon, I, 0, vn(2026, 3, 11, 17, 0), vn(2026, 3, 13, 17, 0)}}},
		{"overdue over the weekend, no apology", p5(dvcwatch.StatusInProgress), vn(2026, 3, 9, 10, 0),
			[]want{{dvcwatch.BreachOverdue, W, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"overdue exactly two working days: still warning", p5(dvcwatch.StatusReceived), vn(2026, 3, 10, 17, 0),
			[]want{{dvcwatch.BreachOverdue, W, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"overdue more than two working days: critical", p5(dvcwatch.StatusInProgress), vn(2026, 3, 11, 7, 31),
			[]want{{dvcwatch.BreachOverdue, C, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"due on a holiday: 15 days ending 1 Sep 2026 run to Thursday 3 Sep",
			with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.ProcedureCode, d.ReceivedAt, d.DueAt, d.Steps = "P15D", vn(2026, 8, 17, 10, 0), vn(2026, 9, 1, 17, 0), nil
			}), vn(2026, 9, 3, 9, 0),
			// 87.5 working hours allowed (31 Aug–2 Sep off, Saturday 22 Aug worked):
			// 20% left from Thursday 27 Aug 14:30.
			[]want{{dvcwatch.BreachDueSoon, I, 0, vn(2026, 8, 27, 14, 30), vn(2026, 9, 3, 17, 0)}}},
		{"due on a holiday: overdue the next morning",
			with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
				d.ProcedureCode, d.ReceivedAt, d.DueAt, d.Steps = "P15D", vn(2026, 8, 17, 10, 0), vn(2026, 9, 3, 17, 0), nil
			}), vn(2026, 9, 4, 7, 40),
			[]want{{dvcwatch.BreachOverdue, W, 0, vn(2026, 9, 3, 17, 0), vn(2026, 9, 3, 17, 0)},
				{dvcwatch.BreachNoApology, W, 0, vn(2026, 9, 3, 17, 0), vn(2026, 9, 3, 17, 0)}}},
		{"received after the cutoff: counts from Monday, due soon from receipt (1 day < 8 hours)",
			afterCutoff(vn(2026, 3, 9, 17, 0)), vn(2026, 3, 9, 9, 0),
			[]want{{dvcwatch.BreachDueSoon, I, 0, vn(2026, 3, 6, 17, 30), vn(2026, 3, 9, 17, 0)}}},
		{"received after the cutoff: overdue Tuesday morning", afterCutoff(vn(2026, 3, 9, 17, 0)), vn(2026, 3, 10, 7, 45),
			[]want{{dvcwatch.BreachOverdue, W, 0, vn(2026, 3, 9, 17, 0), vn(2026, 3, 9, 17, 0)},
				{dvcwatch.BreachNoApology, W, 0, vn(2026, 3, 9, 17, 0), vn(2026, 3, 9, 17, 0)}}},
		{"receipt due within a minute's tolerance", afterCutoff(vn(2026, 3, 9, 17, 1)), vn(2026, 3, 6, 17, 45),
			[]want{{dvcwatch.BreachDueSoon, I, 0, vn(2026, 3, 6, 17, 30), vn(2026, 3, 9, 17, 0)}}},
		{"receipt due beyond the legal limit", afterCutoff(vn(2026, 3, 10, 17, 0)), vn(2026, 3, 6, 17, 45),
			[]want{{dvcwatch.BreachDueBeyondLimit, W, 0, vn(2026, 3, 6, 17, 30), vn(2026, 3, 9, 17, 0)},
				{dvcwatch.BreachDueSoon, I, 0, vn(2026, 3, 6, 17, 30), vn(2026, 3, 9, 17, 0)}}},
		{"pause over Tết 2026, returned: due moves to 27 Feb", tet(dvcwatch.StatusInProgress, true), vn(2026, 2, 26, 10, 0), nil},
		{"pause over Tết 2026, returned: overdue on 2 Mar", tet(dvcwatch.StatusInProgress, true), vn(2026, 3, 2, 8, 0),
			[]want{{dvcwatch.BreachOverdue, W, 0, vn(2026, 2, 27, 17, 0), vn(2026, 2, 27, 17, 0)},
				{dvcwatch.BreachNoApology, W, 0, vn(2026, 2, 27, 17, 0), vn(2026, 2, 27, 17, 0)}}},
		{"pause over Tết 2026, still open: never overdue while paused", tet(dvcwatch.StatusAwaitingSupplement, false), vn(2026, 4, 1, 10, 0), nil},
		{"paused after the due: overdue frozen at the pause, never escalates", with(p5(dvcwatch.StatusAwaitingSupplement), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 9, 10, 0)}}
			d.Steps[1].DueAt = vn(2026, 3, 9, 9, 0)
		}), vn(2026, 3, 30, 10, 0),
			[]want{{dvcwatch.BreachOverdue, W, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due},
				{dvcwatch.BreachStepOverdue, W, 2, vn(2026, 3, 9, 9, 0), vn(2026, 3, 9, 9, 0)}}},
		{"paused awaiting payment, pause start unknown: not judged", with(p5(dvcwatch.StatusAwaitingPayment), func(d *dvcwatch.Dossier) { d.Steps = nil }),
			vn(2026, 3, 20, 10, 0), nil},
		{"processed on time, returned late", with(p5(dvcwatch.StatusReturned), func(d *dvcwatch.Dossier) {
			d.ProcessedAt, d.ReturnedAt, d.Steps = vn(2026, 3, 6, 16, 0), vn(2026, 3, 9, 9, 0), nil
		}), vn(2026, 3, 20, 10, 0),
			[]want{{dvcwatch.BreachReturnedLate, W, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"processed late, not yet returned", with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) {
			d.ProcessedAt, d.Steps = vn(2026, 3, 9, 8, 0), nil
		}), vn(2026, 3, 20, 10, 0),
			[]want{{dvcwatch.BreachFinishedLate, W, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"processed and returned late", with(p5(dvcwatch.StatusReturned), func(d *dvcwatch.Dossier) {
			d.ProcessedAt, d.ReturnedAt, d.Steps = vn(2026, 3, 9, 8, 0), vn(2026, 3, 9, 9, 0), nil
		}), vn(2026, 3, 20, 10, 0),
			[]want{{dvcwatch.BreachFinishedLate, W, 0, due, due}, {dvcwatch.BreachReturnedLate, W, 0, due, due},
				{dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"finished on time with an open supplement round left in the data", with(p5(dvcwatch.StatusReturned), func(d *dvcwatch.Dossier) {
			d.ProcessedAt, d.ReturnedAt, d.Steps = vn(2026, 3, 6, 16, 0), vn(2026, 3, 6, 16, 30), nil
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 8, 0)}}
		}), vn(2026, 3, 20, 10, 0), nil},
		{"apology in time moves the due", apologized(vn(2026, 3, 5, 17, 0)), vn(2026, 3, 10, 10, 0), nil},
		{"apology in time: overdue against the new date, no no_apology", apologized(vn(2026, 3, 5, 8, 0)), vn(2026, 3, 12, 8, 0),
			[]want{{dvcwatch.BreachOverdue, W, 0, vn(2026, 3, 11, 17, 0), vn(2026, 3, 11, 17, 0)}}},
		{"late apology: less than a working day ahead, the due does not move", apologized(vn(2026, 3, 6, 10, 0)), vn(2026, 3, 10, 10, 0),
			[]want{{dvcwatch.BreachLateApology, W, 0, vn(2026, 3, 6, 10, 0), due}, {dvcwatch.BreachOverdue, W, 0, due, due}}},
		{"rescheduled twice: only the first new date counts", with(apologized(vn(2026, 3, 5, 8, 0)), func(d *dvcwatch.Dossier) {
			d.Apologies = append(d.Apologies, dvcwatch.Apology{Seq: 2, IssuedAt: vn(2026, 3, 10, 9, 0), NewDueAt: vn(2026, 3, 13, 17, 0)})
			d.DueAt = vn(2026, 3, 13, 17, 0)
		}), vn(2026, 3, 12, 8, 0),
			[]want{{dvcwatch.BreachRescheduledTwice, W, 0, vn(2026, 3, 10, 9, 0), vn(2026, 3, 13, 17, 0)},
				{dvcwatch.BreachOverdue, W, 0, vn(2026, 3, 11, 17, 0), vn(2026, 3, 11, 17, 0)},
				{dvcwatch.BreachDueBeyondLimit, W, 0, vn(2026, 3, 2, 7, 30), vn(2026, 3, 11, 17, 0)}}},
		{"supplemented twice; both rounds move the due by a day", with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.Steps = nil
			d.Supplements = []dvcwatch.Supplement{ // listed out of order on purpose
				{Seq: 2, RequestedAt: vn(2026, 3, 4, 7, 30), ReturnedAt: vn(2026, 3, 4, 13, 30)},
				{Seq: 1, RequestedAt: vn(2026, 3, 3, 13, 30), ReturnedAt: vn(2026, 3, 3, 17, 0)},
			}
			d.DueAt = vn(2026, 3, 9, 17, 0)
		}), vn(2026, 3, 6, 10, 0),
			[]want{{dvcwatch.BreachSupplementedTwice, W, 0, vn(2026, 3, 4, 7, 30), time.Time{}}}},
		{"step overdue: finished late and unfinished critical", with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.Steps[0].DueAt, d.Steps[0].FinishedAt = vn(2026, 3, 2, 8, 0), vn(2026, 3, 2, 9, 0)
			d.Steps[1].DueAt = vn(2026, 3, 5, 17, 0)
			d.DueAt, d.ProcedureCode = vn(2026, 3, 13, 17, 0), "P10"
		}), vn(2026, 3, 10, 10, 0),
			[]want{{dvcwatch.BreachStepOverdue, W, 1, vn(2026, 3, 2, 8, 0), vn(2026, 3, 2, 8, 0)},
				{dvcwatch.BreachStepOverdue, C, 2, vn(2026, 3, 5, 17, 0), vn(2026, 3, 5, 17, 0)}}},
		{"unknown procedure: the portal's due stands in", with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.ProcedureCode = "UNKNOWN"
		}), vn(2026, 3, 9, 10, 0),
			[]want{{dvcwatch.BreachOverdue, W, 0, due, due}, {dvcwatch.BreachNoApology, W, 0, due, due}}},
		{"refused", p5(dvcwatch.StatusRefused), vn(2026, 3, 20, 10, 0), nil},
		{"withdrawn", p5(dvcwatch.StatusWithdrawn), vn(2026, 3, 20, 10, 0), nil},
		{"stopped", with(p5(dvcwatch.StatusStopped), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{RequestedAt: vn(2026, 3, 3, 8, 0)}, {RequestedAt: vn(2026, 3, 4, 8, 0)}}
		}), vn(2026, 3, 20, 10, 0), nil},
		{"submitted, not received", with(p5(dvcwatch.StatusSubmitted), func(d *dvcwatch.Dossier) { d.ReceivedAt = time.Time{} }),
			vn(2026, 3, 20, 10, 0), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bs, err := r.Evaluate(tc.d, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			g, w := got(bs), wanted(tc.want)
			if strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("breaches:\n got  %q\n want %q", g, w)
			}
			for _, b := range bs {
				if b.Key != key || b.Fingerprint != dvcwatch.BreachFingerprint(b.Kind, b.Key, b.StepSeq) {
					t.Errorf("%s: key %v fingerprint %s", b.Kind, b.Key, b.Fingerprint)
				}
				if b.Detail == "" || strings.Contains(b.Detail, "Nguyễn") || strings.Contains(b.Detail, "0900000000") {
					t.Errorf("%s: detail %q", b.Kind, b.Detail)
				}
			}
		})
	}
}

// afterCutoff is a 1-working-day dossier received Friday 6 March 2026 at 17:30,
// after the 17:00 cutoff: it counts from Monday 9 March 07:30 and is due at 17:00.
func afterCutoff(portalDue time.Time) dvcwatch.Dossier {
	return dvcwatch.Dossier{Key: key, ProcedureCode: "P1", Status: dvcwatch.StatusReceived,
		ReceivedAt: vn(2026, 3, 6, 17, 30), DueAt: portalDue}
}

// tet is a 5-working-day dossier received Monday 9 February 2026 whose supplement
// round runs from Wednesday 11 February over Tết (14–22 February off) to Wednesday
// 25 February (or is still open): 2 days used, 5 days paused, due Friday 27 February.
func tet(status dvcwatch.Status, returned bool) dvcwatch.Dossier {
	s := dvcwatch.Supplement{Seq: 1, RequestedAt: vn(2026, 2, 11, 7, 30)}
	if returned {
		s.ReturnedAt = vn(2026, 2, 25, 7, 30)
	}
	return dvcwatch.Dossier{Key: key, ProcedureCode: "P5", Status: status,
		ReceivedAt: vn(2026, 2, 9, 7, 30), DueAt: vn(2026, 2, 27, 17, 0),
		Supplements: []dvcwatch.Supplement{s}}
}

// apologized is p5 with one apology issued at issued, new date Wednesday 11 March.
func apologized(issued time.Time) dvcwatch.Dossier {
	d := p5(dvcwatch.StatusInProgress)
	d.Steps = nil
	d.DueAt = vn(2026, 3, 11, 17, 0)
	d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: issued, NewDueAt: vn(2026, 3, 11, 17, 0), IssuedBy: "cb2", Reason: "chờ ý kiến"}}
	return d
}

func TestAttributionAndFingerprint(t *testing.T) {
	t.Parallel()
	r := rules(t)
	d := p5(dvcwatch.StatusInProgress)
	d.Steps = append(d.Steps, dvcwatch.Step{Seq: 3, Department: "Phòng Tư pháp", Official: "cb3", FinishedAt: vn(2026, 3, 3, 9, 0)})
	find := func(now time.Time) dvcwatch.Breach {
		t.Helper()
		bs, err := r.Evaluate(d, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if b.Kind == dvcwatch.BreachOverdue {
				return b
			}
		}
		t.Fatalf("no overdue breach at %s: %+v", now, bs)
		return dvcwatch.Breach{}
	}
	warn, crit := find(vn(2026, 3, 9, 10, 0)), find(vn(2026, 3, 20, 10, 0))
	if warn.Severity != dvcwatch.SeverityWarning || crit.Severity != dvcwatch.SeverityCritical {
		t.Fatalf("severities %s, %s", warn.Severity, crit.Severity)
	}
	if warn.Fingerprint != crit.Fingerprint || len(warn.Fingerprint) != 64 {
		t.Errorf("fingerprint changed with time or severity: %s vs %s", warn.Fingerprint, crit.Fingerprint)
	}
	if !warn.StartedAt.Equal(crit.StartedAt) {
		t.Errorf("StartedAt changed with time: %s vs %s", warn.StartedAt, crit.StartedAt)
	}
	// The current step is the last unfinished one (step 2), not the last listed.
	if warn.Official != "cb2" || warn.Department != "Phòng TN-MT" || warn.StepSeq != 0 {
		t.Errorf("attributed to %q/%q step %d", warn.Official, warn.Department, warn.StepSeq)
	}
	other := d
	other.Key.Code += "9"
	bs, err := r.Evaluate(other, vn(2026, 3, 9, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Fingerprint == warn.Fingerprint {
			t.Errorf("%s of another dossier shares the fingerprint", b.Kind)
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	r := rules(t)
	bad := p5(dvcwatch.StatusInProgress)
	bad.Supplements = []dvcwatch.Supplement{{RequestedAt: vn(2026, 3, 4, 8, 0), ReturnedAt: vn(2026, 3, 3, 8, 0)}}
	for name, c := range map[string]struct {
		r Rules
		d dvcwatch.Dossier
	}{
		"no schedule":          {Rules{}, p5(dvcwatch.StatusInProgress)},
		"unknown status":       {r, p5(dvcwatch.Status(42))},
		"round ends too early": {r, bad},
	} {
		if bs, err := c.r.Evaluate(c.d, vn(2026, 3, 9, 10, 0)); err == nil {
			t.Errorf("%s: no error, breaches %v", name, bs)
		}
	}
}
