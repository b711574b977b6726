package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
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

func TestScanDossiersIncremental(t *testing.T) {
	t.Parallel()
	const mcdt, onestop, mirror, portal2 = "mcdt", "onestop", "dvcqg", "portal2"
	written, cutoff, later := hour(1), hour(2), hour(3)
	reconciledAt := hour(2)
	in := func(source, code string, status dvcwatch.Status) dvcwatch.Dossier {
		d := dossier(code, status, 0)
		d.Key.Source = source
		return d
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := written
		store.SetClock(db, func() time.Time { return now })

		// In mcdt, one dossier of every status, all written before the cutoff:
		// the open ones are selected for their status alone.
		var ds []dvcwatch.Dossier
		var openKeys []dvcwatch.DossierKey
		for s := dvcwatch.StatusSubmitted; s <= dvcwatch.StatusReturned; s++ {
			d := in(mcdt, fmt.Sprintf("S%02d", int(s)), s)
			ds = append(ds, d)
			if s.Open() {
				openKeys = append(openKeys, d.Key)
			}
		}
		// Finished dossiers: one with an open breach, one with a resolved breach,
		// one changed after the cutoff, one written exactly at it.
		changed := in(mcdt, "CHANGED", dvcwatch.StatusProcessed)
		ds = append(ds, in(mcdt, "BREACHOPEN", dvcwatch.StatusReturned), in(mcdt, "BREACHGONE", dvcwatch.StatusReturned), changed)
		apply(t, db, store.Page{Source: mcdt, Dossiers: ds})
		now = cutoff
		apply(t, db, store.Page{Source: mcdt, Dossiers: []dvcwatch.Dossier{in(mcdt, "ATCUTOFF", dvcwatch.StatusReturned)}})
		now = later
		changed.Status, changed.SourceUpdatedAt = dvcwatch.StatusReturned, changed.SourceUpdatedAt.Add(time.Minute)
		apply(t, db, store.Page{Source: mcdt, Dossiers: []dvcwatch.Dossier{changed}})
		now = written

		breachOf := func(code string) []dvcwatch.Breach {
			b := brc(dvcwatch.BreachFinishedLate, code, 0, dvcwatch.SeverityWarning)
			b.Key.Source = mcdt
			return []dvcwatch.Breach{b}
		}
		evaluated := func(code string, bs []dvcwatch.Breach) dvcwatch.Evaluation {
			return dvcwatch.Evaluation{Key: keyIn(mcdt, code), Agency: agency, Breaches: bs}
		}
		applyBreaches(t, db, detect.Page{Now: written, Dossiers: []dvcwatch.Evaluation{
			evaluated("BREACHOPEN", breachOf("BREACHOPEN")), evaluated("BREACHGONE", breachOf("BREACHGONE"))}})
		applyBreaches(t, db, detect.Page{Now: written, Dossiers: []dvcwatch.Evaluation{evaluated("BREACHGONE", nil)}})

		// In onestop, three finished dossiers reconciled against the mirror: FOPEN
		// is missing there, FGONE was and then arrived, FOTHER is there all along.
		// Against portal2, all three are missing.
		apply(t, db, store.Page{Source: onestop, Dossiers: []dvcwatch.Dossier{in(onestop, "FOPEN", dvcwatch.StatusReturned),
			in(onestop, "FGONE", dvcwatch.StatusReturned), in(onestop, "FOTHER", dvcwatch.StatusReturned)}})
		apply(t, db, store.Page{Source: mirror, Dossiers: []dvcwatch.Dossier{in(mirror, "FOTHER", dvcwatch.StatusReturned)}})
		reconcile := func(mirror string, at time.Time) {
			t.Helper()
			p := store.ReconcileParams{Truth: onestop, Mirror: mirror, Now: at, MaxLag: 10 * time.Minute}
			if _, err := db.Reconcile(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		reconcile(mirror, reconciledAt)
		reconcile(portal2, reconciledAt)
		apply(t, db, store.Page{Source: mirror, Dossiers: []dvcwatch.Dossier{in(mirror, "FGONE", dvcwatch.StatusReturned)}})
		reconcile(mirror, reconciledAt.Add(time.Minute))

		missing := func(code string) []dvcwatch.Finding {
			return []dvcwatch.Finding{{Code: code, Kind: dvcwatch.FindingMissing, TruthStatus: int(dvcwatch.StatusReturned),
				DetectedAt: reconciledAt.UTC()}}
		}
		base := append(slices.Clone(openKeys), keyIn(mcdt, "BREACHOPEN"), keyIn(mcdt, "CHANGED"))
		var everything []dvcwatch.DossierKey
		for _, d := range ds {
			everything = append(everything, d.Key)
		}
		everything = append(everything, keyIn(mcdt, "ATCUTOFF"), keyIn(onestop, "FOPEN"), keyIn(onestop, "FGONE"),
			keyIn(onestop, "FOTHER"))
		// A scan against a mirror leaves the mirror's own copies out.
		butMirror := slices.Clone(everything)
		everything = append(everything, keyIn(mirror, "FOTHER"), keyIn(mirror, "FGONE"))
		cases := []struct {
			name     string
			f        dvcwatch.ScanFilter
			want     []dvcwatch.DossierKey
			findings map[dvcwatch.DossierKey][]dvcwatch.Finding
		}{
			{"incremental", dvcwatch.ScanFilter{ChangedAfter: cutoff, Mirror: mirror},
				append(slices.Clone(base), keyIn(onestop, "FOPEN")),
				map[dvcwatch.DossierKey][]dvcwatch.Finding{keyIn(onestop, "FOPEN"): missing("FOPEN")}},
			{"incremental without a mirror", dvcwatch.ScanFilter{ChangedAfter: cutoff}, base, nil},
			{"incremental against portal2", dvcwatch.ScanFilter{ChangedAfter: cutoff, Mirror: portal2},
				append(slices.Clone(base), keyIn(onestop, "FOPEN"), keyIn(onestop, "FGONE"), keyIn(onestop, "FOTHER")),
				map[dvcwatch.DossierKey][]dvcwatch.Finding{keyIn(onestop, "FOPEN"): missing("FOPEN"),
					keyIn(onestop, "FGONE"): missing("FGONE"), keyIn(onestop, "FOTHER"): missing("FOTHER")}},
			{"incremental from before any write", dvcwatch.ScanFilter{ChangedAfter: written.Add(-time.Microsecond), Mirror: mirror},
				butMirror, map[dvcwatch.DossierKey][]dvcwatch.Finding{keyIn(onestop, "FOPEN"): missing("FOPEN")}},
			{"all", dvcwatch.ScanFilter{All: true, ChangedAfter: cutoff, Mirror: mirror}, butMirror,
				map[dvcwatch.DossierKey][]dvcwatch.Finding{keyIn(onestop, "FOPEN"): missing("FOPEN")}},
			{"all without a mirror", dvcwatch.ScanFilter{All: true}, everything, nil},
		}
		for _, c := range cases {
			want := sortKeys(c.want)
			if c.findings == nil {
				c.findings = map[dvcwatch.DossierKey][]dvcwatch.Finding{}
			}
			// A small page size, so that the filter is applied across pages too.
			for _, size := range []int{2, 1000} {
				s := scan(t, db, c.f, size)
				if got := s.keys(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s, pages of %d: scanned\n%v\nwant\n%v", c.name, size, got, want)
				}
				if !reflect.DeepEqual(s.findings, c.findings) {
					t.Errorf("%s, pages of %d: findings %+v, want %+v", c.name, size, s.findings, c.findings)
				}
			}
		}
	})
}
