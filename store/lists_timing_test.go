package store_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestBreachPageTimings seeds DVCWATCH_LIST_TIMINGS breaches (e.g. 100000)
// per engine and logs how long a first page and a deep one take, with their
// totals, in each order; on PostgreSQL it also checks that the plan of a
// page reads the order's index (the tables are never analyzed here). It is
// skipped unless the variable is set:
//
//	DVCWATCH_LIST_TIMINGS=100000 go test ./store -run TestBreachPageTimings -v
func TestBreachPageTimings(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DVCWATCH_LIST_TIMINGS"))
	if n <= 0 {
		t.Skip("DVCWATCH_LIST_TIMINGS unset: set it to a number of breaches to time pages over")
	}
	for _, e := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{store.DriverPostgres, storetest.Postgres}, {store.DriverSQLite, storetest.SQLite}} {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			start := time.Now()
			if err := storetest.SeedBreaches(ctx, db, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 0, n); err != nil {
				t.Fatal(err)
			}
			t.Logf("seeded %d breaches in %s", n, time.Since(start).Round(time.Millisecond))
			if e.name == store.DriverPostgres {
				explain(t, db)
			}
			for _, f := range []store.BreachFilter{
				{OpenOnly: true, Sort: store.SortLate},
				{OpenOnly: true, Sort: store.SortDue},
				{Sort: store.SortDetected},
				{OpenOnly: true, Agency: storetest.SeedAgencies[1], Sort: store.SortLate},
			} {
				// The cursor of a deep page: the last row of the one that
				// ends nine tenths of the way down.
				deep := f
				deep.Limit = n * 9 / 10
				l, err := db.BreachPage(ctx, deep)
				if err != nil {
					t.Fatal(err)
				}
				f.Limit = 100
				first, tFirst := timePage(t, db, f)
				f.Cursor = l.Next
				page, tDeep := timePage(t, db, f)
				t.Logf("open=%v agency=%q sort=%s: total %d; first page %s, page after row %d: %s (%d rows)",
					f.OpenOnly, f.Agency, f.Sort, first.Total, tFirst, len(l.Items), tDeep, len(page.Items))
			}
		})
	}
}

// timePage reads f's page five times and returns the median time.
func timePage(t *testing.T, db *store.DB, f store.BreachFilter) (store.Listing[dvcwatch.StoredBreach], time.Duration) {
	t.Helper()
	var ds []time.Duration
	var l store.Listing[dvcwatch.StoredBreach]
	for range 5 {
		start := time.Now()
		var err error
		l, err = db.BreachPage(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			if ds[j] < ds[i] {
				ds[i], ds[j] = ds[j], ds[i]
			}
		}
	}
	return l, ds[2].Round(10 * time.Microsecond)
}

// explain checks that a deep page of each order reads its index.
func explain(t *testing.T, db *store.DB) {
	t.Helper()
	for _, c := range []struct{ index, q string }{
		{"breaches_open_late_idx", `SELECT id FROM breaches WHERE resolved_at IS NULL
			AND (COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz), id) > ('2026-01-01 00:00:00+00', 5)
			ORDER BY COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz) ASC, id ASC LIMIT 101`},
		{"breaches_open_due_idx", `SELECT id FROM breaches WHERE resolved_at IS NULL
			AND (COALESCE(due_at, '0001-01-01 00:00:00+00'::timestamptz), id) < ('2026-01-01 00:00:00+00', 5)
			ORDER BY COALESCE(due_at, '0001-01-01 00:00:00+00'::timestamptz) DESC, id DESC LIMIT 101`},
		{"breaches_detected_id_idx", `SELECT id FROM breaches WHERE (detected_at, id) < ('2026-03-02 10:00:00+00', 5)
			ORDER BY detected_at DESC, id DESC LIMIT 101`},
	} {
		var plan []string
		if err := store.SQLX(db).SelectContext(context.Background(), &plan, "EXPLAIN "+c.q); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		t.Logf("plan:\n%s", text)
		if !strings.Contains(text, c.index) || !strings.Contains(text, "Index Cond") {
			t.Errorf("the page is not read through %s:\n%s", c.index, text)
		}
	}
}
