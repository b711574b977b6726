package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// pageAll reads every page of f, limit rows at a time, calling between
// after each page but the last.
func pageAll(t *testing.T, db *store.DB, f store.BreachFilter, between func(page int)) (ids []int64, totals []int) {
	t.Helper()
	ctx := context.Background()
	for page := 0; ; page++ {
		l, err := db.BreachPage(ctx, f)
		if err != nil {
			t.Fatalf("BreachPage page %d: %v", page, err)
		}
		for _, b := range l.Items {
			ids = append(ids, b.ID)
		}
		totals = append(totals, l.Total)
		if l.Next == "" {
			return ids, totals
		}
		if len(l.Items) != f.Limit {
			t.Fatalf("page %d: %d rows before the last page, want %d", page, len(l.Items), f.Limit)
		}
		if between != nil {
			between(page)
		}
		f.Cursor = l.Next
	}
}

func TestBreachPageStableUnderInserts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		if err := storetest.SeedBreaches(ctx, db, base, 0, 250); err != nil {
			t.Fatal(err)
		}
		for _, sort := range store.BreachSorts() {
			t.Run(string(sort), func(t *testing.T) {
				f := store.BreachFilter{Sort: sort, Limit: 40}
				want, totals := pageAll(t, db, f, nil)
				if len(want) != totals[0] || len(want) < 250 {
					t.Fatalf("%d breaches listed, total %d, want 250 or more", len(want), totals[0])
				}
				assertSorted(t, db, sort, want)
				// New breaches that sort first (due long ago, no due at
				// all, detected last) arrive between every two pages: the
				// rows already read neither shift nor come again.
				next := 1000 + 100*slices.Index(store.BreachSorts(), sort)
				got, totals := pageAll(t, db, f, func(int) {
					if err := storetest.SeedBreaches(ctx, db, base.AddDate(0, 0, -30), next, 1); err != nil {
						t.Fatal(err)
					}
					next++
				})
				seen := map[int64]bool{}
				for _, id := range got {
					if seen[id] {
						t.Fatalf("breach %d listed twice", id)
					}
					seen[id] = true
				}
				for _, id := range want {
					if !seen[id] {
						t.Errorf("breach %d of the first listing missing from the one under inserts", id)
					}
				}
				if totals[len(totals)-1] <= totals[0] {
					t.Errorf("totals %v: the inserts were not counted", totals)
				}
			})
		}
	})
}

// TestBreachPageUnderConcurrentWriter pages through the breaches while
// another goroutine keeps inserting breaches that sort ahead of the reader:
// every breach there at the start is read exactly once, and none twice.
func TestBreachPageUnderConcurrentWriter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		if err := storetest.SeedBreaches(ctx, db, base, 0, 600); err != nil {
			t.Fatal(err)
		}
		before, err := db.BreachPage(ctx, store.BreachFilter{Sort: store.SortLate})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			next := 10000
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				// Due long before every seeded breach: ahead of any cursor.
				if err := storetest.SeedBreaches(ctx, db, base.AddDate(0, -3, 0), next, 3); err != nil {
					done <- err
					return
				}
				next += 3
			}
		}()
		f := store.BreachFilter{Sort: store.SortLate, Limit: 25}
		seen := map[int64]int{}
		for pages := 0; ; pages++ {
			l, err := db.BreachPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range l.Items {
				seen[b.ID]++
			}
			if l.Next == "" {
				break
			}
			f.Cursor = l.Next
			time.Sleep(time.Millisecond) // let the writer in
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("breach %d read %d times", id, n)
			}
		}
		for _, b := range before.Items {
			if seen[b.ID] != 1 {
				t.Errorf("breach %d, there at the start, read %d times", b.ID, seen[b.ID])
			}
		}
		after, err := db.BreachPage(ctx, store.BreachFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if after.Total <= before.Total {
			t.Errorf("the writer added nothing while the reader paged (%d, then %d)", before.Total, after.Total)
		}
	})
}

// assertSorted checks ids are in the order sort promises.
func assertSorted(t *testing.T, db *store.DB, sort store.BreachSort, ids []int64) {
	t.Helper()
	var bs []dvcwatch.StoredBreach
	for _, id := range ids {
		b, err := db.GetBreach(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	for i := 1; i < len(bs); i++ {
		a, b := bs[i-1], bs[i]
		var ok bool
		switch sort {
		case store.SortLate: // earliest due first, none last
			ok = !a.DueAt.IsZero() && (b.DueAt.IsZero() || a.DueAt.Before(b.DueAt) || a.DueAt.Equal(b.DueAt) && a.ID < b.ID) ||
				a.DueAt.IsZero() && b.DueAt.IsZero() && a.ID < b.ID
		case store.SortDue: // latest due first, none last
			ok = !a.DueAt.IsZero() && (b.DueAt.IsZero() || a.DueAt.After(b.DueAt) || a.DueAt.Equal(b.DueAt) && a.ID > b.ID) ||
				a.DueAt.IsZero() && b.DueAt.IsZero() && a.ID > b.ID
		case store.SortDetected:
			ok = a.DetectedAt.After(b.DetectedAt) || a.DetectedAt.Equal(b.DetectedAt) && a.ID > b.ID
		}
		if !ok {
			t.Fatalf("sort %s: breach %d (due %v, detected %v) before %d (due %v, detected %v)", sort,
				a.ID, a.DueAt, a.DetectedAt, b.ID, b.DueAt, b.DetectedAt)
		}
	}
}

func TestBreachPageFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		if err := storetest.SeedBreaches(ctx, db, base, 0, 300); err != nil {
			t.Fatal(err)
		}
		all, err := db.BreachPage(ctx, store.BreachFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 300 || len(all.Items) != 300 || all.Next != "" {
			t.Fatalf("all: total %d, %d items, next %q", all.Total, len(all.Items), all.Next)
		}
		yes, no := true, false
		silences := []dvcwatch.Silence{{ID: 1, Matchers: []dvcwatch.Matcher{
			{Label: dvcwatch.LabelKind, Value: "OVERDUE"}, {Label: dvcwatch.LabelAgency, Value: storetest.SeedAgencies[1]}}}}
		cases := []struct {
			name string
			f    store.BreachFilter
			keep func(b dvcwatch.StoredBreach) bool
		}{
			{"open", store.BreachFilter{OpenOnly: true}, func(b dvcwatch.StoredBreach) bool { return b.ResolvedAt.IsZero() }},
			{"resolved", store.BreachFilter{ResolvedOnly: true}, func(b dvcwatch.StoredBreach) bool { return !b.ResolvedAt.IsZero() }},
			{"kind", store.BreachFilter{Kind: dvcwatch.BreachStepOverdue}, func(b dvcwatch.StoredBreach) bool { return b.Kind == dvcwatch.BreachStepOverdue }},
			{"agency and department", store.BreachFilter{Agency: storetest.SeedAgencies[2], Department: "KT"}, func(b dvcwatch.StoredBreach) bool {
				return b.Agency == storetest.SeedAgencies[2] && b.Department == "KT"
			}},
			{"official", store.BreachFilter{Official: "le.van.cuong"}, func(b dvcwatch.StoredBreach) bool { return b.Official == "le.van.cuong" }},
			{"procedure", store.BreachFilter{Procedure: "1.000003"}, func(b dvcwatch.StoredBreach) bool { return b.Procedure == "1.000003" }},
			{"severity", store.BreachFilter{Severity: dvcwatch.SeverityCritical}, func(b dvcwatch.StoredBreach) bool { return b.Severity == dvcwatch.SeverityCritical }},
			{"code, in lower case", store.BreachFilter{Search: " 000.00.31.h99-260301-000042 "}, func(b dvcwatch.StoredBreach) bool { return b.Key.Code == storetest.SeedCode(42) }},
			{"receipt number", store.BreachFilter{Search: storetest.SeedReceipt(7)}, func(b dvcwatch.StoredBreach) bool { return b.Key.Code == storetest.SeedCode(7) }},
			{"nothing found", store.BreachFilter{Search: "KHONG-CO"}, func(dvcwatch.StoredBreach) bool { return false }},
			{"silenced", store.BreachFilter{Silenced: &yes, Silences: silences}, func(b dvcwatch.StoredBreach) bool {
				return silences[0].Matches(b)
			}},
			{"not silenced", store.BreachFilter{Silenced: &no, Silences: silences}, func(b dvcwatch.StoredBreach) bool {
				return !silences[0].Matches(b)
			}},
			{"silenced, no silences", store.BreachFilter{Silenced: &yes}, func(dvcwatch.StoredBreach) bool { return false }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var want []int64
				for _, b := range all.Items {
					if c.keep(b) {
						want = append(want, b.ID)
					}
				}
				c.f.Limit = 7
				got, totals := pageAll(t, db, c.f, nil)
				if !slices.Equal(got, want) {
					t.Errorf("got %d breaches %v, want %d %v", len(got), got, len(want), want)
				}
				if totals[0] != len(want) {
					t.Errorf("total %d, want %d", totals[0], len(want))
				}
				if c.name == "silenced" && len(want) == 0 {
					t.Error("the silence matches no seeded breach: the case tests nothing")
				}
			})
		}
	})
}

func TestBreachPageRecipient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		if err := storetest.SeedBreaches(ctx, db, base, 0, 20); err != nil {
			t.Fatal(err)
		}
		all, err := db.BreachPage(ctx, store.BreachFilter{Sort: store.SortDetected})
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertAlerts(ctx, []dvcwatch.AlertIntent{
				{BreachID: all.Items[3].ID, Recipient: "an", Role: "handler", Severity: dvcwatch.SeverityWarning, Reason: "new"},
				{BreachID: all.Items[5].ID, Recipient: "an", Role: "handler", Severity: dvcwatch.SeverityWarning, Reason: "new"},
				{BreachID: all.Items[6].ID, Recipient: "binh", Role: "handler", Severity: dvcwatch.SeverityWarning, Reason: "new"},
			}, base)
		})
		if err != nil {
			t.Fatal(err)
		}
		l, err := db.BreachPage(ctx, store.BreachFilter{Recipient: "an", Sort: store.SortDetected})
		if err != nil {
			t.Fatal(err)
		}
		if l.Total != 2 || len(l.Items) != 2 || l.Items[0].ID != all.Items[3].ID || l.Items[1].ID != all.Items[5].ID {
			t.Errorf("recipient an: total %d, items %v", l.Total, l.Items)
		}
	})
}

func TestBreachPageBadCursor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := storetest.SeedBreaches(ctx, db, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 0, 5); err != nil {
			t.Fatal(err)
		}
		l, err := db.BreachPage(ctx, store.BreachFilter{Limit: 2, Sort: store.SortLate})
		if err != nil || l.Next == "" {
			t.Fatalf("first page: %v, next %q", err, l.Next)
		}
		for _, f := range []store.BreachFilter{
			{Cursor: "not-a-cursor"},
			{Cursor: l.Next, Sort: store.SortDetected}, // made for another order
		} {
			if _, err := db.BreachPage(ctx, f); !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("cursor %q sort %q: %v, want ErrBadCursor", f.Cursor, f.Sort, err)
			}
		}
	})
}

func TestNotificationAndRunPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		var ids []int64
		for i := range 9 {
			kind := dvcwatch.NotificationKind("alerts")
			if i%3 == 0 {
				kind = "summary"
			}
			id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: "k" + string(rune('a'+i)), Kind: kind,
				Recipient: []string{"an", "binh"}[i%2], Email: "x@example.org", Subject: "s", Text: "t", HTML: "<p>h</p>"}, now)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			if _, err := db.RecordJobRun(ctx, dvcwatch.JobRun{Job: []string{"sync", "detect"}[i%2], StartedAt: now,
				FinishedAt: now, Status: []dvcwatch.RunStatus{dvcwatch.RunFailed, "succeeded"}[min(i%3, 1)]}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.MarkSent(ctx, ids[4], now); err != nil {
			t.Fatal(err)
		}
		var got []int64
		f := store.NotificationFilter{Limit: 4}
		for {
			l, err := db.NotificationPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if l.Total != 9 {
				t.Errorf("total %d, want 9", l.Total)
			}
			for _, n := range l.Items {
				if n.HTML != "" || n.Text != "" {
					t.Errorf("notification %d listed with its bodies", n.ID)
				}
				got = append(got, n.ID)
			}
			if l.Next == "" {
				break
			}
			f.Cursor = l.Next
		}
		want := slices.Clone(ids)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("notifications %v, want %v", got, want)
		}
		for _, c := range []struct {
			f    store.NotificationFilter
			want int
		}{
			{store.NotificationFilter{State: "sent"}, 1},
			{store.NotificationFilter{State: "pending"}, 8},
			{store.NotificationFilter{Kind: "summary"}, 3},
			{store.NotificationFilter{Recipient: "an", Kind: "alerts"}, 3},
		} {
			l, err := db.NotificationPage(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if l.Total != c.want || len(l.Items) != c.want {
				t.Errorf("%+v: total %d, %d items, want %d", c.f, l.Total, len(l.Items), c.want)
			}
		}
		runs, err := db.JobRunPage(ctx, store.JobRunFilter{Job: "sync", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if runs.Total != 5 || len(runs.Items) != 2 || runs.Next == "" || runs.Items[0].ID < runs.Items[1].ID {
			t.Errorf("sync runs: total %d, %+v, next %q", runs.Total, runs.Items, runs.Next)
		}
		rest, err := db.JobRunPage(ctx, store.JobRunFilter{Job: "sync", Limit: 10, Cursor: runs.Next})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest.Items) != 3 || rest.Next != "" || rest.Items[0].ID >= runs.Items[1].ID {
			t.Errorf("sync runs, page 2: %+v, next %q", rest.Items, rest.Next)
		}
		failed, err := db.JobRunPage(ctx, store.JobRunFilter{Status: dvcwatch.RunFailed})
		if err != nil {
			t.Fatal(err)
		}
		if failed.Total != 3 {
			t.Errorf("failed runs: total %d, want 3", failed.Total)
		}
	})
}
