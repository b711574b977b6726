package store_test

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

func TestRecipientBreachesAndRecordAcks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDossiers(t, db, "A", "B")
		lan := brc(dvcwatch.BreachStepOverdue, "A", 1, dvcwatch.SeverityWarning)
		lan.Official = "lan"
		// Each breach's official is told of it: binh of A's overdue and B's
		// missing apology, lan of A's step.
		applyBreaches(t, db, detect.Page{Now: hour(1), Plan: (&planner{}).plan, Dossiers: []dvcwatch.Evaluation{
			eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityWarning), lan),
			eval("B", brc(dvcwatch.BreachNoApology, "B", 0, dvcwatch.SeverityWarning)),
		}})
		a := breachByFP(t, db, dvcwatch.BreachOverdue, "A", 0)
		step := breachByFP(t, db, dvcwatch.BreachStepOverdue, "A", 1)
		b := breachByFP(t, db, dvcwatch.BreachNoApology, "B", 0)

		read := func(ids ...int64) map[int64]dvcwatch.RecipientBreach {
			t.Helper()
			rbs, err := db.RecipientBreaches(ctx, "binh", ids)
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]dvcwatch.RecipientBreach{}
			for _, rb := range rbs {
				out[rb.ID] = rb
			}
			return out
		}
		got := read(a.ID, step.ID, b.ID, b.ID+1000)
		if len(got) != 3 {
			t.Fatalf("RecipientBreaches = %d breaches, want 3 (the unknown id left out): %+v", len(got), got)
		}
		if !reflect.DeepEqual(got[a.ID].StoredBreach, a) {
			t.Errorf("breach = %+v, want %+v", got[a.ID].StoredBreach, a)
		}
		if !got[a.ID].Told || got[step.ID].Told || !got[b.ID].Told {
			t.Errorf("told: A %v, A's step %v, B %v; want binh told of A and B, not of lan's step",
				got[a.ID].Told, got[step.ID].Told, got[b.ID].Told)
		}
		for id, rb := range got {
			if rb.Ack != (dvcwatch.Ack{}) {
				t.Errorf("breach %d: acknowledged %+v before anyone did", id, rb.Ack)
			}
		}

		// Acknowledged through the admin API first: the link records only B.
		if _, err := db.Acknowledge(ctx, a.ID, "binh", "đang xử lý", hour(2)); err != nil {
			t.Fatal(err)
		}
		if want := (dvcwatch.Ack{Severity: dvcwatch.SeverityWarning, Reason: "đang xử lý", At: hour(2).UTC()}); read(a.ID)[a.ID].Ack != want {
			t.Errorf("ack = %+v, want %+v", read(a.ID)[a.ID].Ack, want)
		}
		refs := []dvcwatch.BreachRef{{ID: a.ID, Severity: dvcwatch.SeverityWarning}, {ID: b.ID, Severity: dvcwatch.SeverityWarning}}
		record := func(want []int64, refs ...dvcwatch.BreachRef) {
			t.Helper()
			ids, err := db.RecordAcks(ctx, "binh", refs, "qua thư", hour(2))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("RecordAcks(%+v) recorded %v, want %v", refs, ids, want)
			}
		}
		record([]int64{b.ID}, refs...)
		record(nil, refs...) // the same link again

		// A turns critical, B ends: the warning link records nothing; a
		// critical one replaces binh's acknowledgement of A.
		applyBreaches(t, db, detect.Page{Now: hour(3), Dossiers: []dvcwatch.Evaluation{
			eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityCritical), lan), eval("B"),
		}})
		if _, err := db.RecordAcks(ctx, "binh", []dvcwatch.BreachRef{{ID: b.ID, Severity: dvcwatch.SeverityCritical}}, "x", hour(3)); err != nil {
			t.Fatal(err)
		}
		record(nil, refs...)
		record(nil, dvcwatch.BreachRef{ID: b.ID + 1000, Severity: dvcwatch.SeverityWarning})
		record([]int64{a.ID}, dvcwatch.BreachRef{ID: a.ID, Severity: dvcwatch.SeverityCritical})

		type ack struct {
			BreachID int64  `db:"breach_id"`
			Official string `db:"official"`
			Severity string `db:"severity"`
			Reason   string `db:"reason"`
		}
		var rows []ack
		if err := store.SQLX(db).SelectContext(ctx, &rows, `SELECT breach_id, official, severity, reason FROM breach_acks ORDER BY breach_id`); err != nil {
			t.Fatal(err)
		}
		want := []ack{{a.ID, "binh", "critical", "qua thư"}, {b.ID, "binh", "warning", "qua thư"}}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("breach_acks = %+v, want %+v", rows, want)
		}
		if got := read(a.ID, b.ID); !got[b.ID].Ack.At.Equal(hour(2)) || got[b.ID].ResolvedAt.IsZero() {
			t.Errorf("B: %+v; want resolved, acknowledged at hour 2", got[b.ID])
		}
	})
}

// Two confirmations of one link at once record each acknowledgement once.
func TestRecordAcksRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDossiers(t, db, "A")
		applyBreaches(t, db, detect.Page{Now: hour(1), Plan: (&planner{}).plan, Dossiers: []dvcwatch.Evaluation{
			eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityWarning),
				brc(dvcwatch.BreachNoApology, "A", 0, dvcwatch.SeverityWarning)),
		}})
		var refs []dvcwatch.BreachRef
		for _, b := range allBreaches(t, db) {
			refs = append(refs, dvcwatch.BreachRef{ID: b.ID, Severity: b.Severity})
		}
		const n = 8
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total []int64
		)
		for range n {
			wg.Go(func() {
				ids, err := db.RecordAcks(ctx, "binh", refs, "qua thư", hour(2))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total = append(total, ids...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(total)
		if len(total) != len(refs) || len(slices.Compact(slices.Clone(total))) != len(refs) {
			t.Errorf("%d confirmations at once recorded %v, want each of %d breaches once", n, total, len(refs))
		}
	})
}
