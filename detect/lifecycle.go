package detect

import (
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// PageResult counts what recording one page of evaluations changed.
type PageResult struct {
	New       map[dvcwatch.BreachKind]int // breaches recorded for the first time, by kind
	Updated   int                         // severity, attribution, procedure, due or actionability changed
	Reopened  int                         // resolved earlier, reported again
	Resolved  int
	Alerts    int
	Unchanged int
	Silenced  int // recorded, and not planned: an active silence matches them (see Page.Silences)
}

// changes is the decision of lifecycle: what to write for one page.
type changes struct {
	insert  []dvcwatch.StoredBreach             // new breaches, without ids
	update  []dvcwatch.StoredBreach             // changed or reopened: their new state
	resolve map[dvcwatch.ResolvedReason][]int64 // unresolved breaches the rules no longer report, by why
	// plan are the recorded breaches whose recipients are decided again:
	// every one still reported of an open dossier, and those of a finished
	// dossier that changed or came back. The inserted ones are planned too,
	// once they have ids.
	plan   []dvcwatch.StoredBreach
	result PageResult
}

// lifecycle decides what recording evs at now changes, given every breach
// already recorded for their dossiers (by fingerprint, resolved ones
// included): a breach reported for the first time is new; one reported again
// after it was resolved is reopened; one whose severity, attribution, procedure,
// due or actionability changed is updated; one no longer reported is resolved
// (as its condition ended, or, when the rules were upgraded or its kind is no
// longer one, as a change of rules); the rest is unchanged. It is pure: the
// caller reads stored and writes the decision in one transaction.
func lifecycle(now time.Time, evs []dvcwatch.Evaluation, stored map[string]dvcwatch.StoredBreach, upgrade bool) changes {
	now = instant(now)
	ch := changes{result: PageResult{New: map[dvcwatch.BreachKind]int{}}, resolve: map[dvcwatch.ResolvedReason][]int64{}}
	reported := map[string]bool{}
	for _, ev := range evs {
		for _, br := range ev.Breaches {
			if br.Fingerprint == "" {
				br.Fingerprint = dvcwatch.BreachFingerprint(br.Kind, br.Key, br.StepSeq)
			}
			if reported[br.Fingerprint] {
				continue
			}
			reported[br.Fingerprint] = true
			br.StartedAt, br.DueAt = instant(br.StartedAt), instant(br.DueAt)
			old, ok := stored[br.Fingerprint]
			if !ok {
				ch.result.New[br.Kind]++
				ch.insert = append(ch.insert, dvcwatch.StoredBreach{
					Breach: br, Agency: ev.Agency, Procedure: ev.Procedure, Actionable: ev.Open, DetectedAt: now, UpdatedAt: now,
				})
				continue
			}
			cur := dvcwatch.StoredBreach{ID: old.ID, Breach: br, Agency: ev.Agency, Procedure: ev.Procedure,
				Actionable: ev.Open, DetectedAt: old.DetectedAt, UpdatedAt: now}
			switch {
			case !old.ResolvedAt.IsZero():
				ch.result.Reopened++
			case sameBreach(old, cur):
				ch.result.Unchanged++
				// A finished dossier's breach was planned when it was
				// recorded or last changed, and is history since: no
				// repeat, no escalation by time. Planning it again could
				// only mail people a rule named after the fact, the
				// backlog flood an operator adding a rule must not get.
				if old.Actionable {
					ch.plan = append(ch.plan, old)
				}
				continue
			default:
				ch.result.Updated++
			}
			ch.update = append(ch.update, cur)
			ch.plan = append(ch.plan, cur)
		}
	}
	for fp, old := range stored {
		if reported[fp] || !old.ResolvedAt.IsZero() {
			continue
		}
		reason := dvcwatch.ResolvedEnded
		if upgrade || !old.Kind.Valid() {
			reason = dvcwatch.ResolvedRuleChanged
		}
		ch.resolve[reason] = append(ch.resolve[reason], old.ID)
		ch.result.Resolved++
	}
	return ch
}

// sameBreach reports whether cur needs no write over old. The detail text
// (e.g. "overdue by 5.5 working hours") is not compared: it changes at every
// evaluation and is refreshed with the next real change.
func sameBreach(old, cur dvcwatch.StoredBreach) bool {
	return old.Severity == cur.Severity && old.Official == cur.Official && old.Department == cur.Department &&
		old.Agency == cur.Agency && old.Procedure == cur.Procedure && old.Actionable == cur.Actionable &&
		old.StartedAt.Equal(cur.StartedAt) && old.DueAt.Equal(cur.DueAt)
}

// instant is t as the store keeps it (microseconds), so that a time computed
// now compares equal to the same time read back.
func instant(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
