package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

func TestReconcile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		from := func(source string, ds ...dvcwatch.Dossier) []dvcwatch.Dossier {
			for i := range ds {
				ds[i].Key.Source = source
			}
			return ds
		}
		// Truth: A in sync, B missing on the mirror, C another status there,
		// D only submitted online (not expected on the mirror), E changed a
		// minute before "now" (the mirror still has time to catch up).
		apply(t, db, store.Page{Source: "onestop", Dossiers: from("onestop",
			dossier("A", dvcwatch.StatusInProgress, 0),
			dossier("B", dvcwatch.StatusReceived, 0),
			dossier("C", dvcwatch.StatusProcessed, 0),
			dossier("D", dvcwatch.StatusSubmitted, 0),
			dossier("E", dvcwatch.StatusReturned, 119),
		)})
		apply(t, db, store.Page{Source: "dvcqg", Dossiers: from("dvcqg",
			dossier("A", dvcwatch.StatusInProgress, 0),
			dossier("C", dvcwatch.StatusInProgress, 0),
			dossier("E", dvcwatch.StatusProcessed, 0),
		)})
		p := store.ReconcileParams{Truth: "onestop", Mirror: "dvcqg", Now: t0.Add(2 * time.Hour), MaxLag: 10 * time.Minute}
		res, err := db.Reconcile(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := (dvcwatch.ReconcileResult{Received: 4, Missing: 1, Mismatched: 1}); res != want {
			t.Errorf("first run = %+v, want %+v", res, want)
		}
		if got := res.SyncRate(); got != 0.75 {
			t.Errorf("SyncRate = %v, want 0.75", got)
		}
		found, err := db.Findings(ctx, "onestop", "dvcqg")
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 2 || found[0].Code != "B" || found[0].Kind != dvcwatch.FindingMissing ||
			found[1].Code != "C" || found[1].Kind != dvcwatch.FindingStatusMismatch || found[1].MirrorStatus != 4 {
			t.Fatalf("findings = %+v", found)
		}

		// A rerun changes nothing; then the mirror catches up with C and the
		// finding is resolved, while E, now past the lag, becomes one.
		if res, _ := db.Reconcile(ctx, p); res != (dvcwatch.ReconcileResult{Received: 4, Missing: 1, Mismatched: 1}) {
			t.Errorf("rerun = %+v", res)
		}
		apply(t, db, store.Page{Source: "dvcqg", Dossiers: from("dvcqg", dossier("C", dvcwatch.StatusProcessed, 5))})
		p.Now = p.Now.Add(time.Hour)
		res, err = db.Reconcile(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := (dvcwatch.ReconcileResult{Received: 4, Missing: 1, Mismatched: 1, Resolved: 1}); res != want {
			t.Errorf("after catch-up = %+v, want %+v", res, want)
		}
		found, _ = db.Findings(ctx, "onestop", "dvcqg")
		if len(found) != 2 || found[0].Code != "B" || found[1].Code != "E" {
			t.Errorf("findings after catch-up = %+v, want B and E", found)
		}
	})
}
