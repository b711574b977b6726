package detect

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	now := t0.Add(5 * time.Hour)
	key := dvcwatch.DossierKey{Source: "onestop", Code: "A"}
	overdue := dvcwatch.Breach{Kind: dvcwatch.BreachOverdue, Key: key, Official: "binh", Department: "TP",
		Severity: dvcwatch.SeverityWarning, StartedAt: t0, DueAt: t0}
	overdue.Fingerprint = dvcwatch.BreachFingerprint(overdue.Kind, key, 0)
	step := dvcwatch.Breach{Kind: dvcwatch.BreachStepOverdue, Key: key, StepSeq: 1, Official: "lan",
		Severity: dvcwatch.SeverityInfo, StartedAt: t0, DueAt: t0}
	// stored is a breach as recorded earlier, open unless resolved.
	stored := func(id int64, b dvcwatch.Breach, actionable bool, resolved time.Time) dvcwatch.StoredBreach {
		b.Fingerprint = dvcwatch.BreachFingerprint(b.Kind, b.Key, b.StepSeq)
		return dvcwatch.StoredBreach{ID: id, Breach: b, Agency: "X", Procedure: "1.001193", Actionable: actionable,
			DetectedAt: t0, UpdatedAt: t0, ResolvedAt: resolved}
	}
	eval := func(open bool, bs ...dvcwatch.Breach) []dvcwatch.Evaluation {
		return []dvcwatch.Evaluation{{Key: key, Agency: "X", Procedure: "1.001193", Open: open, Breaches: bs}}
	}
	// The dossier was filed under another procedure since (a silence may
	// match by it).
	otherProcedure := eval(true, overdue)
	otherProcedure[0].Procedure = "1.001194"
	critical := overdue
	critical.Severity = dvcwatch.SeverityCritical

	tests := []struct {
		name    string
		evs     []dvcwatch.Evaluation
		stored  []dvcwatch.StoredBreach
		upgrade bool
		insert  []dvcwatch.BreachKind
		update  []int64
		resolve map[dvcwatch.ResolvedReason][]int64
		plan    []int64
		result  PageResult
	}{
		{name: "nothing reported, nothing stored", evs: eval(true),
			result: PageResult{New: map[dvcwatch.BreachKind]int{}}},
		{name: "first report is new, with its fingerprint computed", evs: eval(true, step),
			insert: []dvcwatch.BreachKind{dvcwatch.BreachStepOverdue},
			result: PageResult{New: map[dvcwatch.BreachKind]int{dvcwatch.BreachStepOverdue: 1}}},
		{name: "reported twice in a page counts once", evs: eval(true, overdue, overdue),
			insert: []dvcwatch.BreachKind{dvcwatch.BreachOverdue},
			result: PageResult{New: map[dvcwatch.BreachKind]int{dvcwatch.BreachOverdue: 1}}},
		{name: "unchanged, open dossier: planned again (repeats, escalation by time)", evs: eval(true, overdue),
			stored: []dvcwatch.StoredBreach{stored(7, overdue, true, time.Time{})}, plan: []int64{7},
			result: PageResult{New: map[dvcwatch.BreachKind]int{}, Unchanged: 1}},
		{name: "unchanged, finished dossier: history, not planned", evs: eval(false, overdue),
			stored: []dvcwatch.StoredBreach{stored(7, overdue, false, time.Time{})},
			result: PageResult{New: map[dvcwatch.BreachKind]int{}, Unchanged: 1}},
		{name: "severity changed: updated and planned", evs: eval(true, critical),
			stored: []dvcwatch.StoredBreach{stored(7, overdue, true, time.Time{})}, update: []int64{7}, plan: []int64{7},
			result: PageResult{New: map[dvcwatch.BreachKind]int{}, Updated: 1}},
		{name: "procedure changed: updated and planned", evs: otherProcedure,
			stored: []dvcwatch.StoredBreach{stored(7, overdue, true, time.Time{})}, update: []int64{7}, plan: []int64{7},
			result: PageResult{New: map[dvcwatch.BreachKind]int{}, Updated: 1}},
		{name: "dossier finished since: actionability changed, updated", evs: eval(false, overdue),
			stored: []dvcwatch.StoredBreach{stored(7, overdue, true, time.Time{})}, update: []int64{7}, plan: []int64{7},
			result: PageResult{New: map[dvcwatch.BreachKind]int{}, Updated: 1}},
		{name: "reported again after it was resolved: reopened", evs: eval(true, overdue),
			stored: []dvcwatch.StoredBreach{stored(7, overdue, true, t0.Add(time.Hour))}, update: []int64{7}, plan: []int64{7},
			result: PageResult{New: map[dvcwatch.BreachKind]int{}, Reopened: 1}},
		{name: "no longer reported: resolved, unless resolved already", evs: eval(true),
			stored:  []dvcwatch.StoredBreach{stored(7, overdue, true, time.Time{}), stored(8, step, true, t0.Add(time.Hour))},
			resolve: map[dvcwatch.ResolvedReason][]int64{dvcwatch.ResolvedEnded: {7}},
			result:  PageResult{New: map[dvcwatch.BreachKind]int{}, Resolved: 1}},
		{name: "no longer reported by upgraded rules: resolved as a change of rules", evs: eval(true), upgrade: true,
			stored:  []dvcwatch.StoredBreach{stored(7, overdue, true, time.Time{})},
			resolve: map[dvcwatch.ResolvedReason][]int64{dvcwatch.ResolvedRuleChanged: {7}},
			result:  PageResult{New: map[dvcwatch.BreachKind]int{}, Resolved: 1}},
		{name: "a retired kind (returned_late) is resolved as a change of rules", evs: eval(false),
			stored: []dvcwatch.StoredBreach{stored(9, dvcwatch.Breach{Kind: "returned_late", Key: key, StartedAt: t0, DueAt: t0,
				Severity: dvcwatch.SeverityWarning}, false, time.Time{})},
			resolve: map[dvcwatch.ResolvedReason][]int64{dvcwatch.ResolvedRuleChanged: {9}},
			result:  PageResult{New: map[dvcwatch.BreachKind]int{}, Resolved: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byFP := map[string]dvcwatch.StoredBreach{}
			for _, b := range tt.stored {
				byFP[b.Fingerprint] = b
			}
			ch := lifecycle(now, tt.evs, byFP, tt.upgrade)
			if !reflect.DeepEqual(ch.result, tt.result) {
				t.Errorf("result = %+v, want %+v", ch.result, tt.result)
			}
			var kinds []dvcwatch.BreachKind
			for _, b := range ch.insert {
				kinds = append(kinds, b.Kind)
				if b.ID != 0 || b.Fingerprint != dvcwatch.BreachFingerprint(b.Kind, b.Key, b.StepSeq) ||
					!b.DetectedAt.Equal(now) || !b.UpdatedAt.Equal(now) || b.Agency != "X" || b.Procedure != "1.001193" ||
					!b.ResolvedAt.IsZero() {
					t.Errorf("insert %+v", b)
				}
			}
			if !slices.Equal(kinds, tt.insert) {
				t.Errorf("insert kinds %v, want %v", kinds, tt.insert)
			}
			ids := func(bs []dvcwatch.StoredBreach) []int64 {
				var out []int64
				for _, b := range bs {
					out = append(out, b.ID)
				}
				return out
			}
			if got := ids(ch.update); !slices.Equal(got, tt.update) {
				t.Errorf("update %v, want %v", got, tt.update)
			}
			for _, b := range ch.update {
				if !b.UpdatedAt.Equal(now) || !b.DetectedAt.Equal(t0) || !b.ResolvedAt.IsZero() || b.Procedure != tt.evs[0].Procedure {
					t.Errorf("updated breach keeps its detection time, is open and stamped now: %+v", b)
				}
			}
			if tt.resolve == nil {
				tt.resolve = map[dvcwatch.ResolvedReason][]int64{}
			}
			if !reflect.DeepEqual(ch.resolve, tt.resolve) {
				t.Errorf("resolve %v, want %v", ch.resolve, tt.resolve)
			}
			if got := ids(ch.plan); !slices.Equal(got, tt.plan) {
				t.Errorf("plan %v, want %v", got, tt.plan)
			}
		})
	}
}

// TestLifecycleComparesStoredPrecision: a due computed to the nanosecond is
// the same breach as the one stored to the microsecond.
func TestLifecycleComparesStoredPrecision(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 3, 2, 17, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	key := dvcwatch.DossierKey{Source: "onestop", Code: "A"}
	b := dvcwatch.Breach{Kind: dvcwatch.BreachOverdue, Key: key, Severity: dvcwatch.SeverityWarning, StartedAt: due, DueAt: due}
	fp := dvcwatch.BreachFingerprint(b.Kind, key, 0)
	old := dvcwatch.StoredBreach{ID: 1, Breach: b, Actionable: true}
	old.Fingerprint = fp
	old.StartedAt, old.DueAt = due.UTC().Truncate(time.Microsecond), due.UTC().Truncate(time.Microsecond)
	ch := lifecycle(due, []dvcwatch.Evaluation{{Key: key, Open: true, Breaches: []dvcwatch.Breach{b}}},
		map[string]dvcwatch.StoredBreach{fp: old}, false)
	if ch.result.Unchanged != 1 || len(ch.update) != 0 {
		t.Errorf("result %+v, update %v: want unchanged", ch.result, ch.update)
	}
}
