package breach

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// signature is what a detector records of an evaluation's breaches: every
// field but the detail text.
func signature(bs []dvcwatch.Breach) string {
	var out []string
	for _, b := range bs {
		out = append(out, fmt.Sprintf("%s/%d %s %s %s %s %s", b.Kind, b.StepSeq, b.Severity, b.Official, b.Department,
			b.StartedAt.UTC().Format(time.RFC3339Nano), b.DueAt.UTC().Format(time.RFC3339Nano)))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// TestNextCheck walks time in steps of seven minutes across three weeks for
// dossiers that cross every threshold the rules know, and checks the promise
// of each evaluation's next check: until then, the breaches stay what they
// were (a change inside it would be missed by an incremental pass). It also
// checks that the promises are not idle: each change of the breaches falls
// within a step of an instant some next check named.
func TestNextCheck(t *testing.T) {
	r := rules(t)
	byMinute := r
	byMinute.ByMinute = true
	open := p5(dvcwatch.StatusInProgress)
	cases := []struct {
		name  string
		rules Rules
		d     dvcwatch.Dossier
	}{
		{"in progress, by date", r, open},
		{"in progress, by the minute", byMinute, open},
		{"no appointment: the computed due", r, with(open, func(d *dvcwatch.Dossier) { d.DueAt = time.Time{} })},
		{"apologised with a new date", r, with(open, func(d *dvcwatch.Dossier) {
			d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: vn(2026, 3, 5, 9, 0), NewDueAt: vn(2026, 3, 12, 17, 0)}}
		})},
		{"a step due before the dossier", r, with(open, func(d *dvcwatch.Dossier) {
			d.Steps[1].DueAt = vn(2026, 3, 4, 11, 0)
		})},
		{"a step due before the dossier, by the minute", byMinute, with(open, func(d *dvcwatch.Dossier) {
			d.Steps[1].DueAt = vn(2026, 3, 4, 11, 0)
		})},
		{"waiting for a supplement since before the due", r, with(open, func(d *dvcwatch.Dossier) {
			d.Status = dvcwatch.StatusAwaitingSupplement
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 4, 8, 0)}}
		})},
		{"waiting for a supplement since after the due", r, with(open, func(d *dvcwatch.Dossier) {
			d.Status = dvcwatch.StatusAwaitingSupplement
			d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: vn(2026, 3, 11, 8, 0)}}
		})},
		{"waiting for payment, the receipt beyond the limit", r, with(open, func(d *dvcwatch.Dossier) {
			d.Status = dvcwatch.StatusAwaitingPayment
			d.DueAt = vn(2026, 3, 13, 17, 0) // the limit allows 9 March: the wait makes up for it
			d.PaymentWaits = []dvcwatch.Wait{{Start: vn(2026, 3, 3, 10, 15)}}
		})},
		{"submitted online", r, dvcwatch.Dossier{Key: key, ProcedureCode: "P5", Status: dvcwatch.StatusSubmitted,
			Agency: "UBND-XA", SubmittedAt: vn(2026, 3, 2, 15, 20)}},
		{"finished late", r, with(open, func(d *dvcwatch.Dossier) {
			d.Status, d.ProcessedAt = dvcwatch.StatusProcessed, vn(2026, 3, 11, 9, 0)
		})},
	}
	// The clock stands still for it: nothing changes.
	still := map[string]bool{"waiting for a supplement since before the due": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			type promise struct {
				sig   string
				from  time.Time
				until time.Time
			}
			var promises []promise
			named := map[time.Time]bool{} // next checks given
			prev, changes := "-", 0
			step := 7 * time.Minute
			// From the dossier's last event on: a pass never judges a
			// dossier at a time before what it records.
			from := vn(2026, 3, 2, 7, 3)
			for _, w := range c.d.PaymentWaits {
				from = w.Start.Add(time.Minute)
			}
			for at := from; at.Before(vn(2026, 3, 23, 0, 0)); at = at.Add(step) {
				bs, _, next, err := c.rules.Judge(c.d, at)
				if err != nil {
					t.Fatal(err)
				}
				sig := signature(bs)
				promises = slices.DeleteFunc(promises, func(p promise) bool { return !at.Before(p.until) })
				for _, p := range promises {
					if p.sig != sig {
						t.Fatalf("at %s: breaches\n  %s\nbut at %s the next check was %s, with\n  %s", at, sig, p.from, p.until, p.sig)
					}
				}
				if !next.IsZero() {
					if next.Before(at) {
						t.Fatalf("at %s: next check %s, in the past", at, next)
					}
					promises = append(promises, promise{sig, at, next})
					named[next] = true
				}
				if prev != "-" && sig != prev {
					changes++
					near := false
					for n := range named {
						near = near || (!n.After(at) && at.Sub(n) <= step)
					}
					if !near {
						t.Errorf("at %s: the breaches changed to\n  %s\nno next check named the step before", at, sig)
					}
				}
				prev = sig
			}
			if c.d.Status.Open() && !still[c.name] && changes == 0 {
				t.Errorf("no change in three weeks: the case crosses no threshold")
			}
		})
	}
}
