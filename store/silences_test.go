package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// addSilence records a silence of matchers from start for d, by "otto".
func addSilence(t *testing.T, db *store.DB, start time.Time, d time.Duration, matchers ...dvcwatch.Matcher) dvcwatch.Silence {
	t.Helper()
	s, err := db.AddSilence(context.Background(), dvcwatch.Silence{Matchers: matchers, StartsAt: start, EndsAt: start.Add(d),
		Reason: "Cổng DVCQG bảo trì", CreatedBy: "otto", CreatedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func silenceIDs(ss []dvcwatch.Silence) []int64 {
	ids := []int64{}
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestSilences(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		all := []dvcwatch.Matcher{
			dvcwatch.NewMatcher(dvcwatch.LabelKind, "portal_mismatch"), dvcwatch.NewMatcher(dvcwatch.LabelAgency, "000.05.31.H99"),
			dvcwatch.NewMatcher(dvcwatch.LabelDepartment, "Phòng Tư pháp"), dvcwatch.NewMatcher(dvcwatch.LabelOfficial, "binh"),
			dvcwatch.NewMatcher(dvcwatch.LabelProcedure, "1.001193"), dvcwatch.NewMatcher(dvcwatch.LabelDossier, "H99-0001"),
		}
		first := addSilence(t, db, hour(0), 2*time.Hour, all...)
		want := dvcwatch.Silence{ID: first.ID, Matchers: all, StartsAt: hour(0).UTC(), EndsAt: hour(2).UTC(),
			Reason: "Cổng DVCQG bảo trì", CreatedBy: "otto", CreatedAt: hour(0).UTC()}
		if !reflect.DeepEqual(first, want) {
			t.Errorf("AddSilence = %+v\nwant %+v", first, want)
		}
		if got, err := db.GetSilence(ctx, first.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("GetSilence = %+v, %v\nwant %+v", got, err, want)
		}
		if _, err := db.GetSilence(ctx, 999); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("GetSilence(999): %v, want ErrNotFound", err)
		}
		second := addSilence(t, db, hour(1), time.Hour, dvcwatch.NewMatcher(dvcwatch.LabelKind, "overdue"))
		third := addSilence(t, db, hour(1), 5*time.Hour, dvcwatch.NewMatcher(dvcwatch.LabelDossier, "H99-0002"))

		// Active from the start included to the end excluded; newest first.
		for _, c := range []struct {
			at   time.Time
			want []int64
		}{
			{hour(0).Add(-time.Microsecond), []int64{}},
			{hour(0), []int64{first.ID}},
			{hour(1), []int64{third.ID, second.ID, first.ID}},
			{hour(2), []int64{third.ID}},
			{hour(6), []int64{}},
		} {
			ss, err := db.ActiveSilences(ctx, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := silenceIDs(ss); !reflect.DeepEqual(got, c.want) {
				t.Errorf("ActiveSilences(%s) = %v, want %v", c.at.Format(time.TimeOnly), got, c.want)
			}
			for _, s := range ss {
				if !s.Active(c.at) {
					t.Errorf("ActiveSilences(%s) lists %d, which Silence.Active says is not", c.at.Format(time.TimeOnly), s.ID)
				}
			}
		}
		ss, err := db.Silences(ctx, store.SilenceFilter{})
		if got := silenceIDs(ss); err != nil || !reflect.DeepEqual(got, []int64{third.ID, second.ID, first.ID}) {
			t.Errorf("Silences(all) = %v, %v", got, err)
		}
		ss, err = db.Silences(ctx, store.SilenceFilter{Limit: 1})
		if got := silenceIDs(ss); err != nil || !reflect.DeepEqual(got, []int64{third.ID}) {
			t.Errorf("Silences(limit 1) = %v, %v", got, err)
		}

		// Expiring ends it at once and keeps it, with who ended it; a
		// second time, or an ended silence, changes nothing.
		at := hour(1).Add(30 * time.Minute)
		s, expired, err := db.ExpireSilence(ctx, third.ID, at, "ada")
		if err != nil || !expired || !s.EndsAt.Equal(at) || s.ExpiredBy != "ada" || s.CreatedBy != "otto" {
			t.Errorf("ExpireSilence = %+v, %t, %v", s, expired, err)
		}
		if ss, _ := db.ActiveSilences(ctx, at); !reflect.DeepEqual(silenceIDs(ss), []int64{second.ID, first.ID}) {
			t.Errorf("active after the expiry: %v", silenceIDs(ss))
		}
		for _, id := range []int64{third.ID, first.ID} {
			s, expired, err = db.ExpireSilence(ctx, id, hour(3), "ada")
			if err != nil || expired || s.ID != id || s.ExpiredBy != "" && id == first.ID {
				t.Errorf("ExpireSilence(%d) after its end = %+v, %t, %v; want it unchanged", id, s, expired, err)
			}
		}
		if got := getSilence(t, db, third.ID); !got.EndsAt.Equal(at) || got.ExpiredBy != "ada" {
			t.Errorf("silence expired twice: %+v", got)
		}
		if _, _, err := db.ExpireSilence(ctx, 999, at, "ada"); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("ExpireSilence(999): %v, want ErrNotFound", err)
		}
		if ss, _ := db.Silences(ctx, store.SilenceFilter{}); len(ss) != 3 {
			t.Errorf("%d silences kept, want all 3", len(ss))
		}
	})
}

func getSilence(t *testing.T, db *store.DB, id int64) dvcwatch.Silence {
	t.Helper()
	s, err := db.GetSilence(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecordBreachesSilenced: a breach a silence matches is recorded, with
// its procedure, and not planned; the first page after the silence ends
// plans it as new.
func TestRecordBreachesSilenced(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, "A-01", "B-01")
		// The silence names A by its code in lower case, and the procedure.
		sil := addSilence(t, db, hour(0), 3*time.Hour, dvcwatch.NewMatcher(dvcwatch.LabelDossier, "a-01"),
			dvcwatch.NewMatcher(dvcwatch.LabelProcedure, "1.001193"))
		evs := func() []dvcwatch.Evaluation {
			a := eval("A-01", brc(dvcwatch.BreachOverdue, "A-01", 0, dvcwatch.SeverityWarning))
			b := eval("B-01", brc(dvcwatch.BreachOverdue, "B-01", 0, dvcwatch.SeverityWarning))
			a.Procedure, b.Procedure = "1.001193", "1.001193"
			return []dvcwatch.Evaluation{a, b}
		}
		active, err := db.ActiveSilences(context.Background(), hour(1))
		if err != nil || len(active) != 1 {
			t.Fatalf("active silences: %v, %v", active, err)
		}
		p := &planner{}
		res := applyBreaches(t, db, detect.Page{Now: hour(1), Dossiers: evs(), Plan: p.plan, Silences: active})
		wantBreachResult(t, res, detect.PageResult{New: map[dvcwatch.BreachKind]int{dvcwatch.BreachOverdue: 2}, Alerts: 1, Silenced: 1})
		a := breachByFP(t, db, dvcwatch.BreachOverdue, "A-01", 0)
		b := breachByFP(t, db, dvcwatch.BreachOverdue, "B-01", 0)
		if a.Procedure != "1.001193" || !a.ResolvedAt.IsZero() {
			t.Errorf("silenced breach as recorded: %+v", a)
		}
		if len(p.seen) != 1 || p.seen[0].ID != b.ID {
			t.Errorf("planned %v, want only B's breach %d", p.seen, b.ID)
		}
		if rows := alertRows(t, db); len(rows) != 1 || rows[0].BreachID != b.ID {
			t.Errorf("alerts %+v, want one, of B", rows)
		}

		// Still silenced: nothing planned for A, which is unchanged.
		res = applyBreaches(t, db, detect.Page{Now: hour(2), Dossiers: evs(), Plan: p.plan, Silences: active})
		wantBreachResult(t, res, detect.PageResult{Unchanged: 2, Silenced: 1})

		// Expired: the next page plans A, whose official was never told.
		if _, _, err := db.ExpireSilence(context.Background(), sil.ID, hour(2).Add(time.Minute), "ada"); err != nil {
			t.Fatal(err)
		}
		active, err = db.ActiveSilences(context.Background(), hour(2).Add(time.Minute))
		if err != nil || len(active) != 0 {
			t.Fatalf("active silences after the expiry: %v, %v", active, err)
		}
		res = applyBreaches(t, db, detect.Page{Now: hour(2).Add(time.Minute), Dossiers: evs(), Plan: p.plan, Silences: active})
		wantBreachResult(t, res, detect.PageResult{Unchanged: 2, Alerts: 1})
		if rows := alertRows(t, db); len(rows) != 2 || rows[1].BreachID != a.ID || rows[1].Reason != dvcwatch.AlertNew {
			t.Errorf("alerts %+v, want A's new alert after B's", rows)
		}
	})
}

// TestMigrationFillsBreachProcedures: breaches recorded before migration 7
// take their dossier's procedure code.
func TestMigrationFillsBreachProcedures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// The dossiers are written by today's ApplyPage, before going back:
		// it writes columns release 6 did not have.
		d := dossier("A", dvcwatch.StatusInProgress, 0)
		d.ProcedureCode = "1.001193"
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d, dossier("B", dvcwatch.StatusInProgress, 0)}})
		if err := store.MigrateDownTo(ctx, db, 6); err != nil {
			t.Fatal(err)
		}
		// As release 6 recorded them: no procedure_code column yet.
		for _, code := range []string{"A", "B"} {
			q := `INSERT INTO breaches (fingerprint, kind, source, code, severity, actionable, detected_at, updated_at)
				VALUES (?, 'overdue', ?, ?, 'warning', ?, ?, ?)`
			x := store.SQLX(db)
			at := hour(0).UTC().Format("2006-01-02T15:04:05.000000Z") // SQLite's layout, which PostgreSQL reads too
			if _, err := x.ExecContext(ctx, x.Rebind(q), "fp-"+code, src, code, true, at, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, b := range allBreaches(t, db) {
			got[b.Key.Code] = b.Procedure
		}
		if want := map[string]string{"A": "1.001193", "B": ""}; !reflect.DeepEqual(got, want) {
			t.Errorf("procedures after the migration: %v, want %v", got, want)
		}
	})
}
