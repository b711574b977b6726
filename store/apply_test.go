package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// Page.ExpectNew only changes how ApplyPage finds out what is stored: a
// sequence of pages applied with it and without it leaves the same rows in
// every table (status events, bookkeeping times and cursor included) and
// counts the same, whether the guess is right or wrong.
func TestExpectNewStoresWhatTheNormalPathStores(t *testing.T) {
	t.Parallel()
	withChildren := func(code string, status dvcwatch.Status, min int) dvcwatch.Dossier {
		d := dossier(code, status, min)
		d.Steps = append(d.Steps, dvcwatch.Step{Seq: 2, Official: "Hoàng Văn Nam", DueAt: t0.AddDate(0, 0, 2)})
		d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: t0, DueAfter: t0.AddDate(0, 0, 9)}}
		d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: t0, NewDueAt: t0.AddDate(0, 0, 7), IssuedBy: "Lê Thị Hoa"}}
		return d
	}
	changedB := withChildren("B", dvcwatch.StatusAwaitingSupplement, 30)
	changedB.Steps = changedB.Steps[:1]
	changedB.Apologies = nil
	otherC := withChildren("C", dvcwatch.StatusReceived, 31)
	otherC.ProcedureName = "Đăng ký kết hôn" // changed, same status: no event

	var many []dvcwatch.Dossier // several statements' worth on both engines
	for i := range 1200 {
		many = append(many, withChildren(fmt.Sprintf("M%04d", i), dvcwatch.StatusReceived, i%7))
	}
	pages := []struct {
		name     string
		dossiers []dvcwatch.Dossier
	}{
		{"all new", []dvcwatch.Dossier{
			withChildren("A", dvcwatch.StatusReceived, 0),
			withChildren("B", dvcwatch.StatusInProgress, 0),
			withChildren("C", dvcwatch.StatusReceived, 0),
			dossier("D", dvcwatch.StatusSubmitted, 0),
		}},
		{"mixed", []dvcwatch.Dossier{
			withChildren("A", dvcwatch.StatusReceived, 0), // unchanged
			changedB, // new status, fewer children
			otherC,
			dossier("D", dvcwatch.StatusReceived, -10), // older than stored: stale
			withChildren("E", dvcwatch.StatusInProgress, 5),
			dossier("F", dvcwatch.StatusSubmitted, 1),
			dossier("F", dvcwatch.StatusReceived, 2), // a duplicate: the newest wins
		}},
		{"all stored", []dvcwatch.Dossier{changedB, otherC, dossier("D", dvcwatch.StatusSubmitted, 0)}},
		{"large", many},
		{"large again, some changed", append(append([]dvcwatch.Dossier(nil), many[:600]...),
			withChildren("M0700", dvcwatch.StatusProcessed, 60), withChildren("N", dvcwatch.StatusReceived, 0))},
	}

	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{store.DriverSQLite, storetest.SQLite}, {store.DriverPostgres, storetest.Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			clock := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
			normal, fast := engine.open(t), engine.open(t)
			for _, db := range []*store.DB{normal, fast} {
				store.SetClock(db, func() time.Time { return clock })
			}
			for i, p := range pages {
				clock = clock.Add(time.Minute)
				page := store.Page{Source: src, Dossiers: p.dossiers, ObservedBy: "sync:" + src,
					Cursor: &store.Cursor{UpdatedAt: t0.Add(time.Duration(i) * time.Hour), Key: p.name}}
				want := apply(t, normal, page)
				page.ExpectNew = true
				if got := apply(t, fast, page); got != want {
					t.Errorf("page %q: PageResult with ExpectNew %+v, without %+v", p.name, got, want)
				}
				for _, table := range dumpedTables {
					if got, want := dump(t, fast, table), dump(t, normal, table); !reflect.DeepEqual(got, want) {
						t.Errorf("after page %q, %s with ExpectNew:\n%v\nwithout:\n%v", p.name, table, got, want)
					}
				}
			}
			if n := len(events(t, fast, "B")); n != 2 {
				t.Errorf("B has %d status events, want 2 (first seen, supplement)", n)
			}
		})
	}
}

// dumpedTables are the tables ApplyPage writes, with a query that reads each
// in a fixed order without its surrogate keys.
var dumpedTables = []string{
	"SELECT * FROM dossiers ORDER BY source, code",
	"SELECT * FROM dossier_steps ORDER BY source, code, seq",
	"SELECT * FROM dossier_supplements ORDER BY source, code, seq",
	"SELECT * FROM dossier_apologies ORDER BY source, code, seq",
	`SELECT source, code, from_status, to_status, raw_from, raw_to, changed_at, observed_by, observed_at
		FROM status_events ORDER BY source, code, id`,
	"SELECT * FROM sync_cursors ORDER BY source",
}

// dump is the rows of query, each value printed.
func dump(t *testing.T, db *store.DB, query string) []string {
	t.Helper()
	rows, err := store.SQLX(db).QueryxContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%v", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
