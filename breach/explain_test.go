package breach

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

func explain(t *testing.T, r Rules, d dvcwatch.Dossier) Explanation {
	t.Helper()
	x, err := r.Explain(d)
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	return x
}

// moves writes the moves as a test reads them: kind, round, due before and
// after (dates), and the working days a pause added.
func moves(x Explanation) string {
	var out []string
	for _, m := range x.Moves {
		s := string(m.Kind)
		if m.Round > 0 {
			s += fmt.Sprintf(" #%d", m.Round)
		}
		if !m.Before.IsZero() {
			s += " " + m.Before.Format("02/01 15:04") + " →"
		}
		s += " " + m.Due.Format("02/01 15:04")
		if m.AddedDays > 0 {
			s += fmt.Sprintf(" +%dwd", m.AddedDays)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// TestExplainDue: one case per way the rules find the due, each with the due
// Evaluate judges against (a late dossier's breach carries it).
func TestExplainDue(t *testing.T) {
	t.Parallel()
	r := rules(t)
	pausing := r
	pausing.SupplementPauses = func(string) bool { return true }
	received := vn(2026, 4, 23, 9, 0) // Thursday; 5wd skips 25/4 to 3/5 but 28–29/4
	tests := []struct {
		name  string
		rules Rules
		d     dvcwatch.Dossier
		basis DueBasis
		due   time.Time
		round int
		moves string
		from  time.Time // CountFrom
	}{{
		name: "the receipt's appointment", rules: r, d: p5(dvcwatch.StatusInProgress),
		basis: BasisAppointment, due: vn(2026, 3, 9, 17, 0), moves: "appointment 09/03 17:00", from: vn(2026, 3, 2, 7, 30),
	}, {
		name: "no appointment: the computed legal due stands in", rules: r,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.ReceivedAt, d.DueAt = received, time.Time{}
		}),
		basis: BasisComputed, due: vn(2026, 5, 5, 17, 0), moves: "computed 05/05 17:00", from: received,
	}, {
		name: "no appointment and no known limit: no due", rules: r,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.ProcedureCode, d.DueAt = "UNKNOWN", time.Time{}
		}),
		basis: BasisNone, from: vn(2026, 3, 2, 7, 30),
	}, {
		name: "a supplement round's new appointment replaces the receipt's", rules: r,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 5, 10, 0),
				DueAfter: vn(2026, 3, 12, 17, 0)}}
		}),
		basis: BasisSupplementAppointment, round: 1, due: vn(2026, 3, 12, 17, 0),
		moves: "appointment 09/03 17:00; supplement_appointment #1 09/03 17:00 → 12/03 17:00", from: vn(2026, 3, 5, 10, 0),
	}, {
		// Decree 118/2025/NĐ-CP art. 19(5): counted again from the complete
		// documents, Thursday 5 March: day 1 is Friday 6, day 5 Thursday 12.
		name: "a round without a new appointment restarts the limit", rules: r,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 5, 10, 0)}}
		}),
		basis: BasisRestart, round: 1, due: vn(2026, 3, 12, 17, 0),
		moves: "appointment 09/03 17:00; restart #1 09/03 17:00 → 12/03 17:00", from: vn(2026, 3, 5, 10, 0),
	}, {
		// Two days' office time paused: two working days more.
		name: "a procedure whose rounds pause", rules: pausing,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 7, 30), ReturnedAt: vn(2026, 3, 4, 17, 0)}}
		}),
		basis: BasisAppointment, due: vn(2026, 3, 11, 17, 0),
		moves: "appointment 09/03 17:00; supplement_pause #1 09/03 17:00 → 11/03 17:00 +2wd", from: vn(2026, 3, 2, 7, 30),
	}, {
		name: "an open round: the clock stands still", rules: r,
		d: with(p5(dvcwatch.StatusAwaitingSupplement), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0)}}
		}),
		basis: BasisAppointment, due: vn(2026, 3, 9, 17, 0),
		moves: "appointment 09/03 17:00; supplement_waiting #1 09/03 17:00 → 09/03 17:00", from: vn(2026, 3, 2, 7, 30),
	}, {
		// Waiting for payment from Wednesday 4 March 08:00 to Thursday 5 at
		// 10:00: 10h30 of office time, two working days rounded up.
		name: "a wait for payment pauses the clock", rules: r,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.PaymentWaits = []dvcwatch.Wait{{Start: vn(2026, 3, 4, 8, 0), End: vn(2026, 3, 5, 10, 0)}}
		}),
		basis: BasisAppointment, due: vn(2026, 3, 11, 17, 0),
		moves: "appointment 09/03 17:00; payment_pause 09/03 17:00 → 11/03 17:00 +2wd", from: vn(2026, 3, 2, 7, 30),
	}, {
		name: "a wait for payment before a restart adds nothing", rules: r,
		d: with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 3, 9, 0), ReturnedAt: vn(2026, 3, 5, 10, 0)}}
			d.PaymentWaits = []dvcwatch.Wait{{Start: vn(2026, 3, 2, 8, 0), End: vn(2026, 3, 2, 10, 0)}}
		}),
		basis: BasisRestart, round: 1, due: vn(2026, 3, 12, 17, 0),
		moves: "appointment 09/03 17:00; restart #1 09/03 17:00 → 12/03 17:00; payment_before_count 12/03 17:00 → 12/03 17:00",
		from:  vn(2026, 3, 5, 10, 0),
	}, {
		name: "an online submission not yet received has no due", rules: r,
		d: with(p5(dvcwatch.StatusSubmitted), func(d *dvcwatch.Dossier) {
			d.ReceivedAt, d.DueAt, d.SubmittedAt = time.Time{}, time.Time{}, vn(2026, 3, 2, 7, 0)
		}),
		basis: BasisNone,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := explain(t, tc.rules, tc.d)
			if x.Basis != tc.basis || !x.Due.Equal(tc.due) || x.Round != tc.round {
				t.Errorf("basis %s, due %s, round %d; want %s, %s, %d", x.Basis, x.Due, x.Round, tc.basis, tc.due, tc.round)
			}
			if got := moves(x); got != tc.moves {
				t.Errorf("moves:\n got %s\nwant %s", got, tc.moves)
			}
			if !x.CountFrom.Equal(tc.from) {
				t.Errorf("count from %s, want %s", x.CountFrom, tc.from)
			}
			if !x.Due.IsZero() && x.Due.Location() != sla.Location() {
				t.Errorf("due in %s, want Asia/Ho_Chi_Minh", x.Due.Location())
			}
			// Evaluate judges against the same due: a month later the open
			// dossier is overdue against it.
			if x.Basis == BasisNone || tc.d.Status != dvcwatch.StatusInProgress {
				return
			}
			var judged time.Time
			for _, b := range evaluate(t, tc.rules, tc.d, tc.due.AddDate(0, 1, 0)) {
				if b.Kind == dvcwatch.BreachOverdue {
					judged = b.DueAt
				}
			}
			if !judged.Equal(x.Due) {
				t.Errorf("Evaluate judges against %s, Explain says %s", judged, x.Due)
			}
		})
	}
}

// TestExplainLegalDue: the computed legal due's computation, the due itself
// when no appointment was given: received Thursday 23 April 2026 with 5
// working days, the weekend, Hùng Kings' day (Sunday 26 April) and its
// compensatory Monday, 30 April, 1 May and the next weekend are skipped.
func TestExplainLegalDue(t *testing.T) {
	t.Parallel()
	d := with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
		d.ReceivedAt, d.DueAt = vn(2026, 4, 23, 9, 0), time.Time{}
	})
	x := explain(t, rules(t), d)
	c := x.Legal
	if c == nil {
		t.Fatal("no legal due")
	}
	if !c.Due.Equal(x.Due) || !c.Due.Equal(vn(2026, 5, 5, 17, 0)) || c.Counting != sla.CountDates || c.Limit.String() != "5wd" {
		t.Errorf("legal due %s (%s, %s), judged due %s; want 05/05 17:00 by dates, 5wd", c.Due, c.Counting, c.Limit, x.Due)
	}
	var skipped []string
	for _, s := range c.Skipped {
		skipped = append(skipped, s.Date.Format("02/01")+" "+string(s.Kind))
	}
	want := "25/04 weekend, 26/04 weekend, 27/04 compensatory, 30/04 holiday, 01/05 holiday, 02/05 weekend, 03/05 weekend"
	if got := strings.Join(skipped, ", "); got != want {
		t.Errorf("skipped:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(c.Skipped[1].Name, "Hùng") || !strings.Contains(c.Skipped[2].Name, "Giỗ Tổ Hùng Vương") {
		t.Errorf("the Sunday and its compensatory day are named %q and %q", c.Skipped[1].Name, c.Skipped[2].Name)
	}

	// With an appointment, the legal due audits it; unknown limit: none.
	if x := explain(t, rules(t), p5(dvcwatch.StatusInProgress)); x.Legal == nil || !x.Legal.Due.Equal(vn(2026, 3, 9, 17, 0)) {
		t.Errorf("the appointment's legal due: %+v", x.Legal)
	}
	unknown := with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) { d.ProcedureCode = "UNKNOWN" })
	if x := explain(t, rules(t), unknown); x.Legal != nil || x.LimitKnown {
		t.Errorf("an unknown limit has a legal due: %+v", x.Legal)
	}
}

// TestExplainWaits: an open dossier's clock standing still, from when, or
// since a time the data does not say.
func TestExplainWaits(t *testing.T) {
	t.Parallel()
	r := rules(t)
	paying := with(p5(dvcwatch.StatusAwaitingPayment), func(d *dvcwatch.Dossier) {
		d.PaymentWaits = []dvcwatch.Wait{{Start: vn(2026, 3, 4, 8, 0)}}
	})
	x := explain(t, r, paying)
	if !x.WaitingSince.Equal(vn(2026, 3, 4, 8, 0)) || x.Stopped || !x.Open {
		t.Errorf("waiting since %s, stopped %v, open %v; want since 04/03 08:00", x.WaitingSince, x.Stopped, x.Open)
	}
	if got := moves(x); got != "appointment 09/03 17:00; payment_waiting 09/03 17:00 → 09/03 17:00" {
		t.Errorf("moves: %s", got)
	}
	if x := explain(t, r, p5(dvcwatch.StatusAwaitingSupplement)); !x.Stopped || !x.WaitingSince.IsZero() {
		t.Errorf("status 5 without a round: stopped %v, since %s; want stopped since an unknown time", x.Stopped, x.WaitingSince)
	}
	done := with(p5(dvcwatch.StatusProcessed), func(d *dvcwatch.Dossier) { d.ProcessedAt = vn(2026, 3, 6, 10, 0) })
	if x := explain(t, r, done); x.Open || !x.End.Equal(vn(2026, 3, 6, 10, 0)) {
		t.Errorf("processed: open %v, end %s", x.Open, x.End)
	}
}

// TestExplainSteps: the steps as the rules read the progress updates.
func TestExplainSteps(t *testing.T) {
	t.Parallel()
	d := with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
		// cb2 updates the step again; then Trần Văn B, configured as
		// tran.van.b of TNMT, takes it without a department.
		d.Steps = append(d.Steps,
			dvcwatch.Step{Seq: 3, Department: "TNMT", Official: "cb2", Content: "Đang thẩm định", StartedAt: vn(2026, 3, 3, 9, 0),
				FinishedAt: vn(2026, 3, 3, 9, 0), DueAt: vn(2026, 3, 9, 17, 0)},
			dvcwatch.Step{Seq: 4, Official: "Trần  Văn B", StartedAt: vn(2026, 3, 4, 14, 0), FinishedAt: vn(2026, 3, 4, 14, 0)})
	})
	x := explain(t, rules(t), d)
	var got []string
	for _, s := range x.Steps {
		seqs := []string{}
		for _, u := range s.Updates {
			seqs = append(seqs, fmt.Sprint(u.Seq))
		}
		end := "-"
		if !s.End.IsZero() {
			end = s.End.Format("02/01 15:04")
		}
		got = append(got, fmt.Sprintf("%d %s/%s [%s] end %s in progress %v", s.Seq, s.Official, s.Department,
			strings.Join(seqs, " "), end, s.InProgress))
	}
	want := []string{
		"1 cb1/MC [1] end 02/03 09:00 in progress false",
		"2 cb2/TNMT [2 3] end 04/03 14:00 in progress false",
		"4 tran.van.b/TNMT [4] end - in progress true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	done := with(d, func(d *dvcwatch.Dossier) { d.Status, d.ProcessedAt = dvcwatch.StatusProcessed, vn(2026, 3, 6, 10, 0) })
	if last := explain(t, rules(t), done).Steps[2]; last.InProgress || !last.End.Equal(vn(2026, 3, 6, 10, 0)) {
		t.Errorf("a processed dossier's last step: in progress %v, end %s", last.InProgress, last.End)
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	if _, err := (Rules{}).Explain(p5(dvcwatch.StatusInProgress)); err == nil {
		t.Error("no schedule: want an error")
	}
	backwards := with(p5(dvcwatch.StatusInProgress), func(d *dvcwatch.Dossier) {
		d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 4, 9, 0), ReturnedAt: vn(2026, 3, 3, 9, 0)}}
	})
	if _, err := rules(t).Explain(backwards); err == nil || !strings.Contains(err.Error(), "before it was requested") {
		t.Errorf("supplement returned before requested: err = %v", err)
	}
}
