package acklink_test

import (
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	const (
		warn = dvcwatch.SeverityWarning
		crit = dvcwatch.SeverityCritical
	)
	at := mailedAt.Add(time.Hour)
	// state is breach id's record: told or not, its severity now, resolved,
	// and the recipient's acknowledgement.
	state := func(id int64, told bool, sev dvcwatch.Severity, resolved bool, ack dvcwatch.Severity) dvcwatch.RecipientBreach {
		b := dvcwatch.RecipientBreach{Told: told}
		b.ID, b.Severity = id, sev
		if resolved {
			b.ResolvedAt = at
		}
		if ack != "" {
			b.Ack = dvcwatch.Ack{Severity: ack, Reason: "đã biết", At: at}
		}
		return b
	}
	claim := acklink.Claim{Recipient: "a", Expires: mailedAt.Add(time.Hour),
		Breaches: []dvcwatch.BreachRef{{ID: 1, Severity: warn}, {ID: 2, Severity: crit}}}
	for _, tc := range []struct {
		name    string
		state   []dvcwatch.RecipientBreach
		verdict acklink.Verdict
		status  [2]acklink.Status
	}{
		{"both to acknowledge", []dvcwatch.RecipientBreach{state(2, true, crit, false, ""), state(1, true, warn, false, "")},
			acklink.Confirm, [2]acklink.Status{acklink.Acknowledge, acklink.Acknowledge}},
		{"acknowledged at another severity before", []dvcwatch.RecipientBreach{state(1, true, warn, false, dvcwatch.SeverityInfo), state(2, true, crit, false, "")},
			acklink.Confirm, [2]acklink.Status{acklink.Acknowledge, acklink.Acknowledge}},
		{"one used", []dvcwatch.RecipientBreach{state(1, true, warn, false, warn), state(2, true, crit, false, "")},
			acklink.Confirm, [2]acklink.Status{acklink.Acknowledged, acklink.Acknowledge}},
		{"used", []dvcwatch.RecipientBreach{state(1, true, warn, false, warn), state(2, true, crit, false, crit)},
			acklink.Used, [2]acklink.Status{acklink.Acknowledged, acklink.Acknowledged}},
		{"used, then resolved", []dvcwatch.RecipientBreach{state(1, true, warn, true, warn), state(2, true, crit, false, crit)},
			acklink.Used, [2]acklink.Status{acklink.Acknowledged, acklink.Acknowledged}},
		{"one resolved", []dvcwatch.RecipientBreach{state(1, true, warn, true, ""), state(2, true, crit, false, "")},
			acklink.Confirm, [2]acklink.Status{acklink.Resolved, acklink.Acknowledge}},
		{"resolved", []dvcwatch.RecipientBreach{state(1, true, warn, true, ""), state(2, true, crit, true, "")},
			acklink.NothingLeft, [2]acklink.Status{acklink.Resolved, acklink.Resolved}},
		{"escalated since", []dvcwatch.RecipientBreach{state(1, true, crit, false, ""), state(2, true, crit, false, crit)},
			acklink.NothingLeft, [2]acklink.Status{acklink.Changed, acklink.Acknowledged}},
		{"never told of one", []dvcwatch.RecipientBreach{state(1, true, warn, false, ""), state(2, false, crit, false, "")},
			acklink.WrongRecipient, [2]acklink.Status{acklink.Acknowledge, acklink.NotTold}},
		{"no such breach", []dvcwatch.RecipientBreach{state(1, true, warn, false, "")},
			acklink.WrongRecipient, [2]acklink.Status{acklink.Acknowledge, acklink.NotTold}},
	} {
		o := acklink.Decide(claim, tc.state)
		if o.Verdict != tc.verdict || len(o.Items) != 2 || o.Items[0].Status != tc.status[0] || o.Items[1].Status != tc.status[1] {
			t.Errorf("%s: Decide = verdict %d, items %+v; want verdict %d, statuses %v", tc.name, o.Verdict, o.Items, tc.verdict, tc.status)
			continue
		}
		var want []dvcwatch.BreachRef
		for i, s := range tc.status {
			if s == acklink.Acknowledge {
				want = append(want, claim.Breaches[i])
			}
		}
		if got := o.ToAcknowledge(); len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
			t.Errorf("%s: ToAcknowledge = %+v, want %+v", tc.name, got, want)
		}
	}
}
