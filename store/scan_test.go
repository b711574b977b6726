package store_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// scanned is what ScanDossiers gave fn, page by page.
type scanned struct {
	pages    [][]dvcwatch.DossierKey
	dossiers []dvcwatch.Dossier
	findings map[dvcwatch.DossierKey][]dvcwatch.Finding
}

func (s scanned) keys() []dvcwatch.DossierKey {
	var out []dvcwatch.DossierKey
	for _, p := range s.pages {
		out = append(out, p...)
	}
	return out
}

func (s scanned) sizes() []int {
	var out []int
	for _, p := range s.pages {
		out = append(out, len(p))
	}
	return out
}

// scan runs ScanDossiers and checks what every page must hold: dossiers as
// GetDossier returns them with their payment waits, and findings only of the
// page's dossiers.
func scan(t *testing.T, db *store.DB, f dvcwatch.ScanFilter, pageSize int) scanned {
	t.Helper()
	ctx := context.Background()
	s := scanned{findings: map[dvcwatch.DossierKey][]dvcwatch.Finding{}}
	err := db.ScanDossiers(ctx, f, pageSize, func(p dvcwatch.ScannedPage) error {
		var keys []dvcwatch.DossierKey
		inPage := map[dvcwatch.DossierKey]bool{}
		for _, d := range p.Dossiers {
			keys = append(keys, d.Key)
			inPage[d.Key] = true
			want, err := db.GetDossier(ctx, d.Key)
			if err != nil {
				return err
			}
			// A scan adds what the rules need beyond what the source
			// reported: the payment waits, read from the status history.
			if d.Status == dvcwatch.StatusAwaitingPayment && (len(d.PaymentWaits) != 1 || !d.PaymentWaits[0].End.IsZero()) {
				t.Errorf("scanned %s, waiting for payment: payment waits %+v, want one still open", d.Key, d.PaymentWaits)
			}
			d.PaymentWaits = nil
			if !reflect.DeepEqual(d, want) {
				t.Errorf("scanned %s:\n got %+v\nwant %+v (GetDossier)", d.Key, d, want)
			}
		}
		if p.Findings == nil {
			t.Error("page without a Findings map")
		}
		for k, fs := range p.Findings {
			if !inPage[k] {
				t.Errorf("findings of %s, not in the page", k)
			}
			s.findings[k] = fs
		}
		s.pages = append(s.pages, keys)
		s.dossiers = append(s.dossiers, p.Dossiers...)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanDossiers: %v", err)
	}
	return s
}

func keyIn(source, code string) dvcwatch.DossierKey {
	return dvcwatch.DossierKey{Source: source, Code: code}
}

func sortKeys(ks []dvcwatch.DossierKey) []dvcwatch.DossierKey {
	ks = slices.Clone(ks)
	slices.SortFunc(ks, func(a, b dvcwatch.DossierKey) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Code, b.Code))
	})
	return ks
}

func TestScanDossiersPages(t *testing.T) {
	t.Parallel()
	in := func(source string, d dvcwatch.Dossier) dvcwatch.Dossier { d.Key.Source = source; return d }
	d3 := dossier("D3", dvcwatch.StatusInProgress, 0)
	d3.Steps = []dvcwatch.Step{
		{Seq: 3, Official: "Lê Thị Hoa", StartedAt: t0.Add(3 * time.Hour)},
		{Seq: 1, Department: "Một cửa", StartedAt: t0, FinishedAt: t0.Add(time.Hour)},
		{Seq: 2, Official: "Trần Văn Bình", StartedAt: t0.Add(time.Hour), DueAt: t0.Add(48 * time.Hour)},
	}
	d3.Supplements = []dvcwatch.Supplement{{Seq: 2, RequestedAt: t0.Add(5 * time.Hour)}, {Seq: 1, RequestedAt: t0.Add(2 * time.Hour),
		ReturnedAt: t0.Add(3 * time.Hour), DueBefore: t0.AddDate(0, 0, 5), DueAfter: t0.AddDate(0, 0, 6)}}
	d3.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: t0.Add(4 * time.Hour), NewDueAt: t0.AddDate(0, 0, 8), IssuedBy: "Chủ tịch", Reason: "xác minh"}}
	d1 := dossier("D1", dvcwatch.StatusReturned, 0)
	d1.Steps = nil
	d2 := dossier("D2", dvcwatch.StatusProcessed, 0)
	d2.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: t0}, {Seq: 2, IssuedAt: t0.Add(time.Hour)}}
	o1 := dossier("D1", dvcwatch.StatusReceived, 0)
	o1.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: t0}}
	pages := []store.Page{
		{Source: "onestop", Dossiers: []dvcwatch.Dossier{in("onestop", dossier("D9", dvcwatch.StatusReceived, 0)), in("onestop", o1),
			in("onestop", dossier("D0", dvcwatch.StatusStopped, 0))}},
		{Source: src, Dossiers: []dvcwatch.Dossier{d3, d1, dossier("D4", dvcwatch.StatusSubmitted, 0), d2}},
	}
	var all []dvcwatch.DossierKey
	for _, p := range pages {
		for _, d := range p.Dossiers {
			all = append(all, d.Key)
		}
	}
	all = sortKeys(all)
	const n = 7
	cases := []struct {
		pageSize int
		want     []int // page sizes
	}{
		{n, []int{n}},            // exactly one page: the next read finds nothing
		{n - 1, []int{n - 1, 1}}, // one more than a page
		{n + 1, []int{n}},
		{3, []int{3, 3, 1}},
		{1, []int{1, 1, 1, 1, 1, 1, 1}},
		{0, []int{n}},  // the default, 1,000
		{-1, []int{n}}, // likewise
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if s := scan(t, db, dvcwatch.ScanFilter{All: true}, 10); len(s.pages) != 0 {
			t.Errorf("empty store: pages %v, want none", s.pages)
		}
		for _, p := range pages {
			apply(t, db, p)
		}
		for _, c := range cases {
			s := scan(t, db, dvcwatch.ScanFilter{All: true}, c.pageSize)
			if !reflect.DeepEqual(s.sizes(), c.want) {
				t.Errorf("page size %d: pages of %v, want %v", c.pageSize, s.sizes(), c.want)
			}
			if !reflect.DeepEqual(s.keys(), all) {
				t.Errorf("page size %d: keys %v, want %v", c.pageSize, s.keys(), all)
			}
			if len(s.findings) != 0 {
				t.Errorf("page size %d: findings %v without a mirror", c.pageSize, s.findings)
			}
		}
		// Spot-check the children against what was written, not only GetDossier.
		s := scan(t, db, dvcwatch.ScanFilter{All: true}, 2)
		for _, d := range s.dossiers {
			if d.Key == d3.Key {
				if len(d.Steps) != 3 || d.Steps[0].Seq != 1 || d.Steps[2].Official != "Lê Thị Hoa" ||
					len(d.Supplements) != 2 || d.Supplements[0].Seq != 1 || len(d.Apologies) != 1 {
					t.Errorf("%s scanned as %+v", d.Key, d)
				}
			}
			if d.Key == d1.Key && (d.Steps != nil || d.Supplements != nil || d.Apologies != nil) {
				t.Errorf("%s has children %+v", d.Key, d)
			}
		}

		// fn's error ends the scan and is returned as is.
		stop := errors.New("stop")
		calls := 0
		err := db.ScanDossiers(ctx, dvcwatch.ScanFilter{All: true}, 3, func(dvcwatch.ScannedPage) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("ScanDossiers with a failing fn: error %v after %d calls, want stop after 1", err, calls)
		}
	})
}

// TestScanDossiersIncremental checks what an incremental pass reads: the
// dossiers whose next check has come, in next-check order, after
// MarkChanged brought forward those written, or whose findings changed,
// since the last pass.
func TestScanDossiersIncremental(t *testing.T) {
	t.Parallel()
	const mcdt, onestop, mirror = "mcdt", "onestop", "dvcqg"
	in := func(source, code string, status dvcwatch.Status) dvcwatch.Dossier {
		d := dossier(code, status, 0)
		d.Key.Source = source
		return d
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := hour(1)
		store.SetClock(db, func() time.Time { return now })
		apply(t, db, store.Page{Source: mcdt, Dossiers: []dvcwatch.Dossier{in(mcdt, "A", dvcwatch.StatusInProgress),
			in(mcdt, "B", dvcwatch.StatusInProgress), in(mcdt, "C", dvcwatch.StatusReturned), in(mcdt, "D", dvcwatch.StatusReturned)}})
		apply(t, db, store.Page{Source: onestop, Dossiers: []dvcwatch.Dossier{in(onestop, "F", dvcwatch.StatusReturned)}})
		save := func(checks ...dvcwatch.NextCheck) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SaveNextChecks(ctx, checks) }); err != nil {
				t.Fatal(err)
			}
		}
		mark := func(after time.Time, mirror string, want int) {
			t.Helper()
			n, err := db.MarkChanged(ctx, after, mirror)
			if err != nil || n != want {
				t.Fatalf("MarkChanged(%s, %q) = %d, %v; want %d", after, mirror, n, err, want)
			}
		}
		expect := func(f dvcwatch.ScanFilter, want map[dvcwatch.DossierKey][]dvcwatch.Finding, keys ...dvcwatch.DossierKey) {
			t.Helper()
			for _, size := range []int{1, 2, 1000} { // the keyset across pages too
				s := scan(t, db, f, size)
				if got := s.keys(); !slices.Equal(got, keys) {
					t.Errorf("due %s, mirror %q, pages of %d: scanned %v, want %v", f.Due, f.Mirror, size, got, keys)
				}
				if want == nil {
					want = map[dvcwatch.DossierKey][]dvcwatch.Finding{}
				}
				if !reflect.DeepEqual(s.findings, want) {
					t.Errorf("due %s, pages of %d: findings %+v, want %+v", f.Due, size, s.findings, want)
				}
			}
		}
		a, b, c, d, f := keyIn(mcdt, "A"), keyIn(mcdt, "B"), keyIn(mcdt, "C"), keyIn(mcdt, "D"), keyIn(onestop, "F")
		check := func(k dvcwatch.DossierKey, at, written time.Time) dvcwatch.NextCheck {
			// Stored: the mark of the write, as the pass read it.
			return dvcwatch.NextCheck{Key: k, At: at, Written: written, Stored: time.Unix(0, 0)}
		}

		// Every dossier written is due at once (the mirror's too, without
		// a mirror named).
		expect(dvcwatch.ScanFilter{Due: hour(-100)}, nil, a, b, c, d, f)
		// A after B by next check, though not by key; C, D and F finished.
		save(check(a, hour(10), hour(1)), check(b, hour(5), hour(1)), check(c, time.Time{}, hour(1)),
			check(d, time.Time{}, hour(1)), check(f, time.Time{}, hour(1)))
		expect(dvcwatch.ScanFilter{Due: hour(4)}, nil)
		expect(dvcwatch.ScanFilter{Due: hour(5)}, nil, b)
		expect(dvcwatch.ScanFilter{Due: hour(10)}, nil, b, a)

		// D written again: due at once. A next check computed from what a
		// pass read before the write leaves it due; one from the new state
		// records it.
		now = hour(2)
		changed := in(mcdt, "D", dvcwatch.StatusReturned)
		changed.SourceUpdatedAt = changed.SourceUpdatedAt.Add(time.Minute)
		changed.ReceiptNo = "changed"
		apply(t, db, store.Page{Source: mcdt, Dossiers: []dvcwatch.Dossier{changed}})
		expect(dvcwatch.ScanFilter{Due: hour(1)}, nil, d)
		save(check(d, time.Time{}, hour(1)))
		expect(dvcwatch.ScanFilter{Due: hour(1)}, nil, d)
		save(check(d, time.Time{}, hour(2)))
		expect(dvcwatch.ScanFilter{Due: hour(1)}, nil)

		// F missing from the mirror: its finding brings it forward.
		now = hour(3)
		reconcile := func() {
			t.Helper()
			p := store.ReconcileParams{Truth: onestop, Mirror: mirror, Now: now, MaxLag: 10 * time.Minute}
			if _, err := db.Reconcile(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		reconcile()
		mark(hour(2), mirror, 1)
		mark(hour(2), mirror, 0) // marked already
		missing := []dvcwatch.Finding{{Code: "F", Kind: dvcwatch.FindingMissing, TruthStatus: int(dvcwatch.StatusReturned),
			DetectedAt: hour(3).UTC()}}
		expect(dvcwatch.ScanFilter{Due: hour(1), Mirror: mirror}, map[dvcwatch.DossierKey][]dvcwatch.Finding{f: missing}, f)
		save(check(f, time.Time{}, hour(1)))
		// Seen again, unchanged: no mark.
		now = hour(4)
		reconcile()
		mark(hour(3), mirror, 0)
		// It reaches the mirror: the finding is resolved, F is due again;
		// the mirror's copy, marked by its write, is unmarked, never scanned.
		now = hour(5)
		apply(t, db, store.Page{Source: mirror, Dossiers: []dvcwatch.Dossier{in(mirror, "F", dvcwatch.StatusReturned)}})
		reconcile()
		expect(dvcwatch.ScanFilter{Due: hour(1)}, nil, keyIn(mirror, "F"))
		mark(hour(4), mirror, 1)
		expect(dvcwatch.ScanFilter{Due: hour(1), Mirror: mirror}, nil, f)
		expect(dvcwatch.ScanFilter{Due: hour(1)}, nil, f)
	})
}

// TestNextCheckPlans checks, on tables never analyzed, that an incremental
// pass's statements read through their indexes: the scan from its cursor in
// next-check order, the findings' marks and the next checks' writes by
// primary key. None may read every dossier.
func TestNextCheckPlans(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		store.SetClock(db, func() time.Time { return hour(1) })
		var checks []dvcwatch.NextCheck
		for p := range 20 {
			var ds []dvcwatch.Dossier
			for i := range 1000 {
				d := dossier(fmt.Sprintf("P%02d-%04d", p, i), dvcwatch.StatusInProgress, 0)
				ds = append(ds, d)
				checks = append(checks, dvcwatch.NextCheck{Key: d.Key, At: hour(i % 48), Written: hour(1), Stored: time.Unix(0, 0)})
			}
			apply(t, db, store.Page{Dossiers: ds})
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SaveNextChecks(ctx, checks) }); err != nil {
			t.Fatal(err)
		}
		keys := []dvcwatch.DossierKey{checks[5].Key, checks[7000].Key}
		for q, args := range store.NextCheckQueries(db, hour(3), keys) {
			tx, err := store.SQLX(db).BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			explain := "EXPLAIN QUERY PLAN "
			if store.SQLX(db).DriverName() != "sqlite" {
				explain = "EXPLAIN "
				// As MarkChanged and ScanDossiers run them.
				var sets []string
				switch {
				case strings.Contains(q, "reconciliation_findings"):
					sets = []string{"SET LOCAL enable_seqscan = off"}
				case strings.HasPrefix(q, "SELECT"):
					sets = []string{"SET LOCAL enable_sort = off", "SET LOCAL enable_bitmapscan = off"}
				}
				for _, set := range sets {
					if _, err := tx.ExecContext(ctx, set); err != nil {
						t.Fatal(err)
					}
				}
			}
			rows, err := tx.QueryContext(ctx, explain+q, args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			text := planText(t, rows)
			_ = tx.Rollback()
			t.Logf("%s\n%s", strings.Join(strings.Fields(q), " ")[:min(120, len(strings.Join(strings.Fields(q), " ")))], text)
			if strings.Contains(text, "Seq Scan on dossiers") || strings.Contains(text, "SCAN dossiers") ||
				strings.Contains(text, "Sort") || strings.Contains(text, "Bitmap Heap Scan on dossiers") ||
				(strings.Contains(q, "ORDER BY d.next_check") && !strings.Contains(text, "dossiers_next_check_idx")) {
				t.Errorf("%s reads every dossier, or not in next-check order:\n%s", q, text)
			}
		}
	})
}

// TestOpenFindingsPlans checks, on a table never analyzed, that a detection
// page reads the open findings of its own codes through the index, for a
// page of a full scan (a range of codes) and one of an incremental pass (a
// list): a plan that filters the codes after the index would read every
// open finding of the source for every page.
func TestOpenFindingsPlans(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		explain := "EXPLAIN QUERY PLAN "
		if store.SQLX(db).DriverName() != "sqlite" {
			explain = "EXPLAIN "
		}
		for _, contiguous := range []bool{true, false} {
			qs, args := store.OpenFindingsQueries(db, "onestop", "dvcqg", []string{"H01-0001", "H01-0420", "H01-0999"}, contiguous)
			if len(qs) != 1 {
				t.Fatalf("contiguous=%t: %d statements, want 1", contiguous, len(qs))
			}
			rows, err := store.SQLX(db).QueryContext(ctx, explain+qs[0], args[0]...)
			if err != nil {
				t.Fatalf("%s: %v", qs[0], err)
			}
			text := planText(t, rows)
			// SQLite: "SEARCH t USING INDEX … (… AND code>? AND code<?)";
			// PostgreSQL: an "Index Cond" on the code.
			bound := regexp.MustCompile(`(SEARCH .*\(.*code[=<>]|Index Cond: .*code =|Index Cond: .*code >=)`)
			if !bound.MatchString(text) {
				t.Errorf("contiguous=%t: the open findings are not looked up by code:\n%s", contiguous, text)
			}
		}
	})
}

// planText is the plan an EXPLAIN (QUERY PLAN) returned, a line per row
// (each row's last column: the detail), and closes rows.
func planText(t *testing.T, rows *sql.Rows) string {
	t.Helper()
	defer rows.Close()
	var plan []string
	for rows.Next() {
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
	}
	return strings.Join(plan, "\n")
}
