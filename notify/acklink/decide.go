package acklink

import "github.com/dvcwatch/dvcwatch"

// Status is what confirming a link does about one of its breaches.
type Status int

// Statuses, in the order Decide tests them.
const (
	// NotTold: no alert of the breach was ever addressed to the link's
	// recipient (or there is no such breach): the link is not theirs to use.
	NotTold Status = iota + 1
	// Acknowledged: the recipient acknowledged it at the severity mailed
	// already (Ack.At says when); the link was used, or the breach was
	// acknowledged another way (the admin API, a newer link).
	Acknowledged
	// Resolved: the breach ended since the mail. Nothing is recorded:
	// there are no repeats left to mute, and an acknowledgement kept would
	// mute the breach if it reopened at that severity, unseen.
	Resolved
	// Changed: its severity is not the one mailed. Nothing is recorded: the
	// official acknowledges what they were told, and the mail about the new
	// severity carries its own link.
	Changed
	// Acknowledge: open at the severity mailed, not acknowledged at it:
	// confirming records the acknowledgement.
	Acknowledge
)

// Item is one breach of a link, as recorded now.
type Item struct {
	Mailed dvcwatch.BreachRef
	// Breach is the breach as the recipient stands with it; its ID is zero
	// when the store has no such breach.
	Breach dvcwatch.RecipientBreach
	Status Status
}

// Verdict is what a link does as a whole.
type Verdict int

// Verdicts.
const (
	// WrongRecipient: the recipient was never told of one of the breaches.
	WrongRecipient Verdict = iota + 1
	// Confirm: at least one breach to acknowledge.
	Confirm
	// Used: every breach acknowledged by the recipient at the severity mailed.
	Used
	// NothingLeft: nothing to acknowledge, not all of it acknowledged: the
	// rest resolved or changed severity since the mail.
	NothingLeft
)

// Outcome is what confirming a link does now.
type Outcome struct {
	Verdict Verdict
	Items   []Item // in the claim's order
}

// Decide says what confirming the link c does, given its breaches as
// recorded for its recipient (state, in any order; breaches missing from it
// do not exist). It reads nothing and writes nothing.
func Decide(c Claim, state []dvcwatch.RecipientBreach) Outcome {
	byID := make(map[int64]dvcwatch.RecipientBreach, len(state))
	for _, b := range state {
		byID[b.ID] = b
	}
	out := Outcome{Items: make([]Item, 0, len(c.Breaches))}
	count := map[Status]int{}
	for _, ref := range c.Breaches {
		b := byID[ref.ID] // the zero RecipientBreach, never told, if absent
		it := Item{Mailed: ref, Breach: b}
		switch {
		case !b.Told:
			it.Status = NotTold
		case !b.Ack.At.IsZero() && b.Ack.Severity == ref.Severity:
			it.Status = Acknowledged
		case !b.ResolvedAt.IsZero():
			it.Status = Resolved
		case b.Severity != ref.Severity:
			it.Status = Changed
		default:
			it.Status = Acknowledge
		}
		count[it.Status]++
		out.Items = append(out.Items, it)
	}
	switch {
	case count[NotTold] > 0:
		out.Verdict = WrongRecipient
	case count[Acknowledge] > 0:
		out.Verdict = Confirm
	case len(out.Items) > 0 && count[Acknowledged] == len(out.Items):
		out.Verdict = Used
	default:
		out.Verdict = NothingLeft
	}
	return out
}

// ToAcknowledge returns the breaches confirming records, at the severity
// mailed.
func (o Outcome) ToAcknowledge() []dvcwatch.BreachRef {
	var out []dvcwatch.BreachRef
	for _, it := range o.Items {
		if it.Status == Acknowledge {
			out = append(out, it.Mailed)
		}
	}
	return out
}
