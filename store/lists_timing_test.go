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
// totals, in each order, and on each engine checks that the plan of a
// page reads the order's index, in order (the tables are never analyzed
// here); TestBreachPagePlans checks that on 20,000. It is skipped unless the
// variable is set:
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
			explain(t, db)
			for _, f := range []store.BreachFilter{
				{OpenOnly: true, Sort: store.SortLate},
				{OpenOnly: true, Sort: store.SortDue},
				{Sort: store.SortDetected},
				{OpenOnly: true, Agency: storetest.SeedAgencies[1], Sort: store.SortLate},
			} {
				f.Limit = 100
				first, tFirst := timePage(t, db, f)
				// The cursor of a deep page: the last row of the one that
				// ends nine tenths of the way down.
				deep := f
				deep.Limit = first.Total * 9 / 10
				l, err := db.BreachPage(ctx, deep)
				if err != nil {
					t.Fatal(err)
				}
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

// TestBreachPagePlans checks on 20,000 breaches per engine that a deep page
// of each order reads its index in order from the cursor.
func TestBreachPagePlans(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if err := storetest.SeedBreaches(context.Background(), db, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 0, 20000); err != nil {
			t.Fatal(err)
		}
		explain(t, db)
	})
}

// explain checks that a deep page of each order, filtered or not, reads
// its index in order from the cursor: no sort, no bitmap of every row after
// it.
func explain(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	for _, f := range []store.BreachFilter{
		{OpenOnly: true, Sort: store.SortLate},
		{OpenOnly: true, Sort: store.SortDue},
		{Sort: store.SortLate},
		{Sort: store.SortDetected},
		{OpenOnly: true, Agency: storetest.SeedAgencies[1], Sort: store.SortLate},
		{OpenOnly: true, Kind: "overdue", Severity: "warning", Sort: store.SortDue},
	} {
		deep := f
		deep.Limit = 1
		l, err := db.BreachPage(ctx, deep)
		if err != nil {
			t.Fatal(err)
		}
		deep.Limit = l.Total / 2 // half way down
		if l, err = db.BreachPage(ctx, deep); err != nil || l.Next == "" {
			t.Fatalf("half way down %+v: %v, next %q", f, err, l.Next)
		}
		f.Cursor, f.Limit = l.Next, 100
		plan, err := store.ExplainBreachPage(ctx, db, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("open=%v agency=%q kind=%q sort=%s, page after row %d:\n%s", f.OpenOnly, f.Agency, f.Kind, f.Sort, len(l.Items), plan)
		switch {
		case strings.Contains(plan, "Sort"), strings.Contains(plan, "Bitmap"), strings.Contains(plan, "TEMP B-TREE"):
			t.Errorf("the page is sorted, not read in order from an index:\n%s", plan)
		case !strings.Contains(plan, "Index Scan") && !strings.Contains(plan, "Index Only Scan") && !strings.Contains(plan, "USING INDEX"):
			t.Errorf("the page reads no index:\n%s", plan)
		}
	}
}
