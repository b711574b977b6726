package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

func TestUnsilenced(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	b := func(id int64, kind dvcwatch.BreachKind, code string) dvcwatch.StoredBreach {
		return dvcwatch.StoredBreach{ID: id, Breach: dvcwatch.Breach{Kind: kind, Key: dvcwatch.DossierKey{Source: "onestop", Code: code}}}
	}
	bs := []dvcwatch.StoredBreach{b(1, dvcwatch.BreachOverdue, "A"), b(2, dvcwatch.BreachPortalMismatch, "A"), b(3, dvcwatch.BreachPortalMismatch, "B")}
	silence := func(start, end time.Time, ms ...dvcwatch.Matcher) dvcwatch.Silence {
		return dvcwatch.Silence{Matchers: ms, StartsAt: start, EndsAt: end}
	}
	mismatch := dvcwatch.NewMatcher(dvcwatch.LabelKind, "portal_mismatch")
	for _, c := range []struct {
		name     string
		silences []dvcwatch.Silence
		keep     []int64
	}{
		{"no silence", nil, []int64{1, 2, 3}},
		{"by kind", []dvcwatch.Silence{silence(now, now.Add(time.Hour), mismatch)}, []int64{1}},
		{"by kind and dossier", []dvcwatch.Silence{silence(now, now.Add(time.Hour), mismatch, dvcwatch.NewMatcher(dvcwatch.LabelDossier, "b"))}, []int64{1, 2}},
		{"two silences", []dvcwatch.Silence{silence(now, now.Add(time.Hour), dvcwatch.NewMatcher(dvcwatch.LabelDossier, "A")),
			silence(now, now.Add(time.Hour), dvcwatch.NewMatcher(dvcwatch.LabelDossier, "B"))}, []int64{}},
		{"ended at now", []dvcwatch.Silence{silence(now.Add(-time.Hour), now, mismatch)}, []int64{1, 2, 3}},
		{"not started yet", []dvcwatch.Silence{silence(now.Add(time.Minute), now.Add(time.Hour), mismatch)}, []int64{1, 2, 3}},
	} {
		kept, muted := unsilenced(now, c.silences, bs)
		ids := []int64{}
		for _, k := range kept {
			ids = append(ids, k.ID)
		}
		if !slices.Equal(ids, c.keep) || muted != len(bs)-len(c.keep) {
			t.Errorf("%s: kept %v, muted %d; want %v kept", c.name, ids, muted, c.keep)
		}
	}
	if len(bs) != 3 || bs[0].ID != 1 || bs[1].ID != 2 || bs[2].ID != 3 {
		t.Errorf("unsilenced changed its argument: %+v", bs)
	}
}
