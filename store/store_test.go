package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

const src = "dvcqg"

var (
	ict = time.FixedZone("ICT", 7*3600)          // Asia/Ho_Chi_Minh, as the portals write dates
	est = time.FixedZone("EST", -5*3600)         // a zone west of UTC
	t0  = time.Date(2026, 3, 2, 8, 0, 0, 0, ict) // a Monday morning in Hanoi
)

// dossier is a small valid dossier with one step, updated at t0 + min minutes.
func dossier(code string, status dvcwatch.Status, min int) dvcwatch.Dossier {
	return dvcwatch.Dossier{
		Key:             dvcwatch.DossierKey{Source: src, Code: code},
		ProcedureName:   "Đăng ký khai sinh",
		Agency:          "UBND-XA-01",
		Status:          status,
		RawStatus:       fmt.Sprintf("TT%d", status),
		ReceivedAt:      t0,
		DueAt:           t0.AddDate(0, 0, 5),
		Steps:           []dvcwatch.Step{{Seq: 1, Department: "Phòng Tư pháp", Official: "Trần Văn Bình", StartedAt: t0}},
		SourceUpdatedAt: t0.Add(time.Duration(min) * time.Minute),
	}
}

func key(code string) dvcwatch.DossierKey { return dvcwatch.DossierKey{Source: src, Code: code} }

func apply(t *testing.T, db *store.DB, page store.Page) store.PageResult {
	t.Helper()
	if page.Source == "" {
		page.Source = src
	}
	res, err := db.ApplyPage(context.Background(), page)
	if err != nil {
		t.Fatalf("ApplyPage: %v", err)
	}
	return res
}

func wantResult(t *testing.T, got, want store.PageResult) {
	t.Helper()
	if got != want {
		t.Errorf("PageResult = %+v, want %+v", got, want)
	}
}

func get(t *testing.T, db *store.DB, code string) dvcwatch.Dossier {
	t.Helper()
	d, err := db.GetDossier(context.Background(), key(code))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func events(t *testing.T, db *store.DB, code string) []dvcwatch.StatusEvent {
	t.Helper()
	ev, err := db.StatusEvents(context.Background(), key(code))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func count(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := db.CountDossiers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// inUTC is d as the store returns it: every time the same instant, in UTC.
func inUTC(d dvcwatch.Dossier) dvcwatch.Dossier {
	u := func(t *time.Time) {
		if t.IsZero() {
			*t = time.Time{}
		} else {
			*t = t.UTC()
		}
	}
	for _, t := range []*time.Time{&d.SubmittedAt, &d.ReceivedAt, &d.DueAt, &d.ProcessedAt, &d.ReturnedAt, &d.RefusedAt, &d.SourceUpdatedAt} {
		u(t)
	}
	d.Steps = append([]dvcwatch.Step(nil), d.Steps...)
	for i := range d.Steps {
		u(&d.Steps[i].StartedAt)
		u(&d.Steps[i].DueAt)
		u(&d.Steps[i].FinishedAt)
	}
	d.Supplements = append([]dvcwatch.Supplement(nil), d.Supplements...)
	for i := range d.Supplements {
		s := &d.Supplements[i]
		u(&s.RequestedAt)
		u(&s.ReturnedAt)
		u(&s.DueBefore)
		u(&s.DueAfter)
	}
	d.Apologies = append([]dvcwatch.Apology(nil), d.Apologies...)
	for i := range d.Apologies {
		u(&d.Apologies[i].IssuedAt)
		u(&d.Apologies[i].NewDueAt)
	}
	return d
}

func wantDossier(t *testing.T, got, want dvcwatch.Dossier) {
	t.Helper()
	if want = inUTC(want); !reflect.DeepEqual(got, want) {
		t.Errorf("stored dossier:\n got %+v\nwant %+v", got, want)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{dossier("A", dvcwatch.StatusReceived, 0)}})
		versions := func() int {
			var n int
			if err := store.SQLX(db).GetContext(ctx, &n, `SELECT count(*) FROM goose_db_version`); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := versions()
		for range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		}
		if after := versions(); after != before {
			t.Errorf("goose_db_version rows: %d before, %d after migrating again", before, after)
		}
		if n := count(t, db); n != 1 {
			t.Errorf("dossiers after migrating again = %d, want 1", n)
		}
	})
}

func TestApplyPageInsertsWithOneEventEach(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		page := store.Page{
			ObservedBy: "sync:dvcqg",
			Dossiers: []dvcwatch.Dossier{
				dossier("A", dvcwatch.StatusSubmitted, 1),
				dossier("B", dvcwatch.StatusReceived, 2),
				dossier("C", dvcwatch.StatusInProgress, 3),
			},
		}
		wantResult(t, apply(t, db, page), store.PageResult{Inserted: 3, Events: 3})
		if n := count(t, db); n != 3 {
			t.Errorf("CountDossiers = %d, want 3", n)
		}
		for _, d := range page.Dossiers {
			want := []dvcwatch.StatusEvent{{
				Key: d.Key, From: 0, To: d.Status, RawTo: d.RawStatus, At: d.SourceUpdatedAt.UTC(), Source: "sync:dvcqg",
			}}
			if got := events(t, db, d.Key.Code); !reflect.DeepEqual(got, want) {
				t.Errorf("events of %s = %+v, want %+v", d.Key, got, want)
			}
			wantDossier(t, get(t, db, d.Key.Code), d)
		}
	})
}

func TestApplyPageTwiceWritesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		store.SetClock(db, func() time.Time { return clock })
		page := store.Page{Dossiers: []dvcwatch.Dossier{
			dossier("A", dvcwatch.StatusReceived, 0),
			dossier("B", dvcwatch.StatusInProgress, 0),
		}}
		wantResult(t, apply(t, db, page), store.PageResult{Inserted: 2, Events: 2})

		clock = clock.Add(time.Hour)
		wantResult(t, apply(t, db, page), store.PageResult{Unchanged: 2})
		for _, code := range []string{"A", "B"} {
			if n := len(events(t, db, code)); n != 1 {
				t.Errorf("%s has %d events, want 1", code, n)
			}
			first, updated, err := store.Bookkeeping(ctx, db, key(code))
			if err != nil {
				t.Fatal(err)
			}
			if want := clock.Add(-time.Hour); !first.Equal(want) || !updated.Equal(want) {
				t.Errorf("%s first_seen_at %v, updated_at %v; want both %v (row untouched)", code, first, updated, want)
			}
		}
	})
}

// Portals send Vietnamese decomposed (NFD) one day and precomposed (NFC)
// the next: the store keeps NFC, and the two forms have one content hash.
func TestApplyPageStoresTextInNFC(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		nfc := dossier("A", dvcwatch.StatusInProgress, 0)
		nfc.Applicant.Name = "Nguyễn Thị Hương"
		nfc.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: t0, NewDueAt: t0.AddDate(0, 0, 7), IssuedBy: "Hoàng Văn Ế", Reason: "Chờ ý kiến"}}
		nfd := nfc
		nfd.ProcedureName = norm.NFD.String(nfc.ProcedureName)
		nfd.Applicant.Name = norm.NFD.String(nfc.Applicant.Name)
		nfd.Steps = []dvcwatch.Step{nfc.Steps[0]}
		nfd.Steps[0].Official = norm.NFD.String(nfc.Steps[0].Official)
		nfd.Steps[0].Department = norm.NFD.String(nfc.Steps[0].Department)
		nfd.Apologies = []dvcwatch.Apology{nfc.Apologies[0]}
		nfd.Apologies[0].IssuedBy = norm.NFD.String(nfc.Apologies[0].IssuedBy)
		if nfd.Applicant.Name == nfc.Applicant.Name || nfd.Steps[0].Official == nfc.Steps[0].Official {
			t.Fatal("the decomposed test text is not decomposed")
		}

		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{nfd}}), store.PageResult{Inserted: 1, Events: 1})
		wantDossier(t, get(t, db, "A"), nfc)
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{nfc}}), store.PageResult{Unchanged: 1})
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{nfd}}), store.PageResult{Unchanged: 1})
		if nfd.Steps[0].Official == nfc.Steps[0].Official {
			t.Error("ApplyPage changed the caller's dossier")
		}
	})
}

func TestStatusChangeAddsOneEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		store.SetClock(db, func() time.Time { return clock })
		d := dossier("A", dvcwatch.StatusReceived, 0)
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d}, ObservedBy: "first"})

		clock = clock.Add(time.Hour)
		d.Status, d.RawStatus, d.SourceUpdatedAt = dvcwatch.StatusInProgress, "DANG_XU_LY", d.SourceUpdatedAt.Add(time.Hour)
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d}, ObservedBy: "second"}),
			store.PageResult{Updated: 1, Events: 1})

		got := events(t, db, "A")
		want := dvcwatch.StatusEvent{
			Key: key("A"), From: dvcwatch.StatusReceived, To: dvcwatch.StatusInProgress,
			RawFrom: "TT2", RawTo: "DANG_XU_LY", At: d.SourceUpdatedAt.UTC(), Source: "second",
		}
		if len(got) != 2 || !reflect.DeepEqual(got[1], want) {
			t.Errorf("events = %+v, want the first-seen event then %+v", got, want)
		}
		wantDossier(t, get(t, db, "A"), d)
		first, updated, err := store.Bookkeeping(ctx, db, key("A"))
		if err != nil {
			t.Fatal(err)
		}
		if !first.Equal(clock.Add(-time.Hour)) || !updated.Equal(clock) {
			t.Errorf("first_seen_at %v, updated_at %v; want %v, %v", first, updated, clock.Add(-time.Hour), clock)
		}
	})
}

func TestOtherChangeUpdatesWithoutEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := dossier("A", dvcwatch.StatusInProgress, 0)
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d}})

		d.ProcedureName = "Đăng ký kết hôn"
		d.RawStatus = "DANG_XU_LY_BUOC_2" // the source's own status moves, ours does not
		d.SourceUpdatedAt = d.SourceUpdatedAt.Add(time.Minute)
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d}}), store.PageResult{Updated: 1})
		if n := len(events(t, db, "A")); n != 1 {
			t.Errorf("%d events, want only the first-seen one", n)
		}
		wantDossier(t, get(t, db, "A"), d)
	})
}

func TestOlderSnapshotIsStale(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		newer := dossier("A", dvcwatch.StatusProcessed, 60)
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{newer}})

		older := dossier("A", dvcwatch.StatusInProgress, 30)
		older.ProcedureName = "tên cũ"
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{older}}), store.PageResult{Stale: 1})
		wantDossier(t, get(t, db, "A"), newer)
		if n := len(events(t, db, "A")); n != 1 {
			t.Errorf("%d events, want 1", n)
		}

		// The same update time with other content is not older: it is written.
		same := newer
		same.ProcedureName = "tên mới"
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{same}}), store.PageResult{Updated: 1})
		wantDossier(t, get(t, db, "A"), same)
	})
}

func TestDuplicateKeysInPageKeepTheNewest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tie := dossier("A", dvcwatch.StatusProcessed, 30)
		tie.ProcedureName = "seen last among the newest"
		page := store.Page{Dossiers: []dvcwatch.Dossier{
			dossier("A", dvcwatch.StatusReceived, 10),
			dossier("A", dvcwatch.StatusInProgress, 30),
			dossier("B", dvcwatch.StatusReceived, 0),
			dossier("A", dvcwatch.StatusAwaitingSupplement, 20),
			tie,
		}}
		wantResult(t, apply(t, db, page), store.PageResult{Inserted: 2, Stale: 3, Events: 2})
		wantDossier(t, get(t, db, "A"), tie)
		got := events(t, db, "A")
		if len(got) != 1 || got[0].From != 0 || got[0].To != dvcwatch.StatusProcessed {
			t.Errorf("events of A = %+v, want one 0 -> processed", got)
		}
	})
}

func TestChangedDossierReplacesChildren(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := dossier("A", dvcwatch.StatusInProgress, 0)
		d.Steps = []dvcwatch.Step{
			{Seq: 1, Department: "Bộ phận một cửa", Official: "Lê Thị Hoa"},
			{Seq: 2, Department: "Phòng Tư pháp", Official: "Trần Văn Bình"},
			{Seq: 3, Department: "Lãnh đạo UBND", Official: "Phạm Minh Đức"},
		}
		d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: t0}, {Seq: 2, RequestedAt: t0.Add(time.Hour)}}
		d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: t0, Reason: "quá tải"}}
		other := dossier("B", dvcwatch.StatusInProgress, 0) // same source, must keep its children
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d, other}})

		d.Steps = []dvcwatch.Step{d.Steps[0], {Seq: 2, Department: "Phòng Tư pháp", Official: "Ngô Thị Lan"}}
		d.Supplements = d.Supplements[:1]
		d.Apologies = nil
		d.SourceUpdatedAt = d.SourceUpdatedAt.Add(time.Minute)
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{d}}), store.PageResult{Updated: 1})
		wantDossier(t, get(t, db, "A"), d)
		wantDossier(t, get(t, db, "B"), other)
	})
}

func TestCursorIsSavedWithThePage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, ok, err := db.Cursor(ctx, src); err != nil || ok {
			t.Fatalf("Cursor before any page = ok %v, err %v; want none", ok, err)
		}
		at := time.Date(2026, 3, 2, 9, 30, 15, 123456000, ict)
		apply(t, db, store.Page{
			Dossiers: []dvcwatch.Dossier{dossier("A", dvcwatch.StatusReceived, 0)},
			Cursor:   &store.Cursor{UpdatedAt: at, Key: "A"},
		})
		wantCursor := func(want store.Cursor) {
			t.Helper()
			got, ok, err := db.Cursor(ctx, src)
			if err != nil || !ok {
				t.Fatalf("Cursor = ok %v, err %v", ok, err)
			}
			if got.Source != want.Source || got.Key != want.Key || !got.UpdatedAt.Equal(want.UpdatedAt) {
				t.Errorf("Cursor = %+v, want %+v", got, want)
			}
		}
		wantCursor(store.Cursor{Source: src, UpdatedAt: at, Key: "A"})

		// A page without a cursor leaves it; a page with only a cursor moves it.
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{dossier("B", dvcwatch.StatusReceived, 0)}})
		wantCursor(store.Cursor{Source: src, UpdatedAt: at, Key: "A"})
		later := at.Add(time.Hour)
		apply(t, db, store.Page{Cursor: &store.Cursor{Source: src, UpdatedAt: later, Key: "B"}})
		wantCursor(store.Cursor{Source: src, UpdatedAt: later, Key: "B"})

		if _, ok, err := db.Cursor(ctx, "other"); err != nil || ok {
			t.Errorf("Cursor of another source = ok %v, err %v; want none", ok, err)
		}
	})
}

func TestFailedPageLeavesNeitherRowsNorCursor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := dossier("A", dvcwatch.StatusReceived, 0)
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{a}})

		// Status events are written last, after the dossiers, their children and
		// the cursor: without their table the page fails at the very end.
		if _, err := store.SQLX(db).ExecContext(ctx, `ALTER TABLE status_events RENAME TO status_events_gone`); err != nil {
			t.Fatal(err)
		}
		changed := a
		changed.Status, changed.SourceUpdatedAt = dvcwatch.StatusInProgress, a.SourceUpdatedAt.Add(time.Hour)
		changed.Steps = nil
		_, err := db.ApplyPage(ctx, store.Page{
			Source:   src,
			Dossiers: []dvcwatch.Dossier{changed, dossier("B", dvcwatch.StatusReceived, 0)},
			Cursor:   &store.Cursor{UpdatedAt: t0, Key: "B"},
		})
		if err == nil {
			t.Fatal("ApplyPage succeeded without a status_events table")
		}
		if !strings.Contains(err.Error(), "status_events") {
			t.Errorf("error %q does not name the failing table", err)
		}
		wantDossier(t, get(t, db, "A"), a)
		if _, err := db.GetDossier(ctx, key("B")); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("GetDossier(B) error = %v, want ErrNotFound", err)
		}
		if c, ok, err := db.Cursor(ctx, src); err != nil || ok {
			t.Errorf("Cursor = %+v, ok %v, err %v; want none", c, ok, err)
		}
	})
}

func TestRoundTripEveryField(t *testing.T) {
	t.Parallel()
	full := dvcwatch.Dossier{
		Key:           key("000.00.01.H56-260302-0001"),
		ReceiptNo:     "BN-2026-000123",
		ProcedureCode: "1.001193",
		ProcedureName: "Đăng ký khai sinh kết hợp nhận cha, mẹ, con",
		FieldCode:     "HT",
		FieldName:     "Hộ tịch",
		Agency:        "UBND xã Ứng Hòa",
		Channel:       dvcwatch.ChannelOnline,
		ApplicantKind: dvcwatch.ApplicantBusiness,
		Applicant: dvcwatch.Applicant{
			Name: "Nguyễn Thị Ánh Tuyết", Email: "tuyet.nguyen@example.vn", Phone: "+84 912 345 678", IDNumber: "001190012345",
		},
		SubmittedAt:       time.Date(2026, 3, 1, 22, 15, 0, 0, ict),        // evening in Hanoi, afternoon UTC
		ReceivedAt:        time.Date(2026, 3, 2, 7, 30, 0, 123456000, ict), // microseconds kept
		DueAt:             time.Date(2026, 3, 9, 17, 0, 0, 0, est),         // another zone
		ProcessedAt:       time.Unix(0, 0),                                 // the epoch is a time, not NULL
		ReturnedAt:        time.Date(2099, 12, 31, 23, 59, 59, 999999000, time.UTC),
		RefusedAt:         time.Time{}, // not reported
		Status:            dvcwatch.StatusAwaitingSupplement,
		RawStatus:         "Yêu cầu bổ sung giấy tờ",
		PaidOnline:        true,
		HasDigitizedParts: true,
		Steps: []dvcwatch.Step{
			{Seq: 1, Department: "Bộ phận Một cửa", Official: "Đỗ Quang Huy", OfficialTitle: "Công chức Tư pháp – Hộ tịch",
				Content: "Tiếp nhận hồ sơ; chuyển xử lý", State: "HOAN_THANH",
				StartedAt: time.Date(2026, 3, 2, 7, 30, 0, 0, ict), DueAt: time.Date(2026, 3, 3, 17, 0, 0, 0, ict),
				FinishedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, ict)},
			{Seq: 2, Department: "Phòng Văn hóa – Xã hội", Official: "Vũ Thị Ngọc Ánh", State: "DANG_XU_LY",
				StartedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, ict)},
		},
		Supplements: []dvcwatch.Supplement{{
			Seq: 1, RequestedAt: time.Date(2026, 3, 4, 10, 0, 0, 0, ict), ReturnedAt: time.Date(2026, 3, 5, 8, 0, 0, 0, ict),
			DueBefore: time.Date(2026, 3, 9, 17, 0, 0, 0, ict), DueAfter: time.Date(2026, 3, 10, 17, 0, 0, 0, ict),
		}},
		Apologies: []dvcwatch.Apology{{
			Seq: 1, IssuedAt: time.Date(2026, 3, 8, 16, 0, 0, 0, ict), NewDueAt: time.Date(2026, 3, 12, 17, 0, 0, 0, ict),
			IssuedBy: "Chủ tịch UBND xã", Reason: "Cần xác minh thêm thông tin 📄",
		}},
		SourceUpdatedAt: time.Date(2026, 3, 8, 16, 0, 1, 0, ict),
	}
	minimal := dvcwatch.Dossier{Key: key("minimal"), Status: dvcwatch.StatusSubmitted}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{full, minimal}, ObservedBy: "test"})
		got := get(t, db, full.Key.Code)
		wantDossier(t, got, full)
		if loc := got.ReceivedAt.Location(); loc != time.UTC {
			t.Errorf("times come back in %v, want UTC", loc)
		}
		wantDossier(t, get(t, db, "minimal"), minimal)
		ev := events(t, db, "minimal")
		if len(ev) != 1 || !ev[0].At.IsZero() {
			t.Errorf("events of a dossier without update time = %+v, want one with zero At", ev)
		}
		// Read back and written again, it is the same content.
		wantResult(t, apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{got}}), store.PageResult{Unchanged: 1})
	})
}

func TestConcurrentPages(t *testing.T) {
	t.Parallel()
	const writers, pages, own = 8, 10, 50
	shared := []string{"S1", "S2", "S3"}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var wg sync.WaitGroup
		errs := make(chan error, writers*pages)
		for w := range writers {
			wg.Go(func() {
				for p := range pages {
					var ds []dvcwatch.Dossier
					n := w*pages + p // the page's update time; the largest n is the newest
					for i := range own {
						ds = append(ds, dossier(fmt.Sprintf("W%d-P%d-%d", w, p, i), dvcwatch.StatusReceived, n))
					}
					for _, code := range shared {
						ds = append(ds, dossier(code, dvcwatch.Status(1+n%10), n))
					}
					page := store.Page{Source: src, Dossiers: ds}
					if p == pages-1 { // most pages read before they write, the SQLITE_BUSY trap
						page.Cursor = &store.Cursor{Key: fmt.Sprint(n)}
					}
					if _, err := db.ApplyPage(context.Background(), page); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent ApplyPage: %v", err)
		}
		if got, want := count(t, db), writers*pages*own+len(shared); got != want {
			t.Errorf("CountDossiers = %d, want %d", got, want)
		}
		newest := writers*pages - 1
		for _, code := range shared {
			d := get(t, db, code)
			if want := t0.Add(time.Duration(newest) * time.Minute); !d.SourceUpdatedAt.Equal(want) {
				t.Errorf("%s kept the snapshot of %v, want the newest, %v", code, d.SourceUpdatedAt, want)
			}
		}
	})
}

func TestLargePage(t *testing.T) {
	t.Parallel()
	const n = 5000 // several statements' worth of rows on both engines
	var ds []dvcwatch.Dossier
	for i := range n {
		d := dossier(fmt.Sprintf("L%05d", i), dvcwatch.StatusReceived, 0)
		d.Steps = append(d.Steps, dvcwatch.Step{Seq: 2, Official: "Hoàng Văn Nam"}, dvcwatch.Step{Seq: 3})
		d.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: t0}}
		d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: t0}}
		ds = append(ds, d)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		wantResult(t, apply(t, db, store.Page{Dossiers: ds}), store.PageResult{Inserted: n, Events: n})
		if got := count(t, db); got != n {
			t.Errorf("CountDossiers = %d, want %d", got, n)
		}
		wantResult(t, apply(t, db, store.Page{Dossiers: ds}), store.PageResult{Unchanged: n})

		changed := make([]dvcwatch.Dossier, n)
		for i, d := range ds {
			d.Status = dvcwatch.StatusInProgress
			d.Steps = d.Steps[:2]
			d.SourceUpdatedAt = d.SourceUpdatedAt.Add(time.Minute)
			changed[i] = d
		}
		wantResult(t, apply(t, db, store.Page{Dossiers: changed}), store.PageResult{Updated: n, Events: n})
		wantDossier(t, get(t, db, "L04999"), changed[n-1])
	})
}

func TestInvalidPageWritesNothing(t *testing.T) {
	t.Parallel()
	ok := dossier("OK", dvcwatch.StatusReceived, 0)
	bad := func(f func(*dvcwatch.Dossier)) dvcwatch.Dossier {
		d := dossier("BAD", dvcwatch.StatusReceived, 0)
		f(&d)
		return d
	}
	cases := []struct {
		name string
		page store.Page
		want string
	}{
		{"no source", store.Page{Dossiers: []dvcwatch.Dossier{ok}}, "page has no source"},
		{"other source", store.Page{Source: src, Dossiers: []dvcwatch.Dossier{ok, bad(func(d *dvcwatch.Dossier) { d.Key.Source = "x" })}},
			`dossier x/BAD: not from source "dvcqg"`},
		{"empty code", store.Page{Source: src, Dossiers: []dvcwatch.Dossier{ok, bad(func(d *dvcwatch.Dossier) { d.Key.Code = "" })}},
			"empty code"},
		{"status 0", store.Page{Source: src, Dossiers: []dvcwatch.Dossier{ok, bad(func(d *dvcwatch.Dossier) { d.Status = 0 })}},
			"dossier dvcqg/BAD: invalid status 0"},
		{"status 11", store.Page{Source: src, Dossiers: []dvcwatch.Dossier{ok, bad(func(d *dvcwatch.Dossier) { d.Status = 11 })}},
			"invalid status 11"},
		{"step seq twice", store.Page{Source: src, Dossiers: []dvcwatch.Dossier{ok, bad(func(d *dvcwatch.Dossier) {
			d.Steps = append(d.Steps, dvcwatch.Step{Seq: 1})
		})}}, "dossier dvcqg/BAD: steps: seq 1 used twice"},
		{"cursor of another source", store.Page{Source: src, Dossiers: []dvcwatch.Dossier{ok}, Cursor: &store.Cursor{Source: "x"}},
			`cursor is for source "x"`},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, c := range cases {
			_, err := db.ApplyPage(context.Background(), c.page)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			}
		}
		if n := count(t, db); n != 0 {
			t.Errorf("invalid pages stored %d dossiers", n)
		}
	})
}

func TestGetDossierNotFound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, err := db.GetDossier(context.Background(), key("nope"))
		if !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
}

func TestSQLiteConnectionsAllHaveTheSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := store.SQLX(storetest.SQLite(t))
	// Hold several connections at once so that the pool opens new ones.
	for i := range 3 {
		conn, err := db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "wal_autocheckpoint": "16384"} {
			var got string
			if err := conn.GetContext(ctx, &got, "PRAGMA "+pragma); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: %s = %s, want %s", i, pragma, got, want)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := store.Open(ctx, "mysql", "x"); err == nil || !strings.Contains(err.Error(), `unknown driver "mysql"`) {
		t.Errorf("unknown driver: error %v", err)
	}
	if _, err := store.Open(ctx, store.DriverSQLite, ""); err == nil {
		t.Error("empty SQLite path: no error")
	}
	_, err := store.Open(ctx, store.DriverPostgres, "postgres://dvc:s3cr3t-pw@127.0.0.1:1/dvc?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("unreachable PostgreSQL: no error")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t-pw") || !strings.Contains(msg, "127.0.0.1:1/dvc") {
		t.Errorf("error %q should name the database without its password", msg)
	}
}

// TestSchemaParity checks that both migrations build the same tables, columns,
// nullability, types (as each engine spells them) and named indexes.
func TestSchemaParity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lite, pg := store.SQLX(storetest.SQLite(t)), store.SQLX(storetest.Postgres(t))

	pgTypes := map[string]string{
		"text": "TEXT", "integer": "INTEGER", "bigint": "INTEGER", "boolean": "INTEGER",
		"timestamp with time zone": "TEXT", "bytea": "BLOB", "jsonb": "TEXT", "double precision": "REAL",
	}
	var pgCols []struct {
		Table, Column, Type, Nullable string
	}
	err := pg.SelectContext(ctx, &pgCols, `SELECT table_name AS "table", column_name AS "column", data_type AS "type",
		is_nullable AS "nullable" FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'goose_db_version' ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range pgCols {
		typ, ok := pgTypes[c.Type]
		if !ok {
			t.Errorf("%s.%s: PostgreSQL type %s has no SQLite counterpart here", c.Table, c.Column, c.Type)
		}
		want = append(want, fmt.Sprintf("%s.%s %s null=%s", c.Table, c.Column, typ, c.Nullable))
	}

	var liteCols []struct {
		Table, Column, Type string
		NotNull, PK         int
	}
	err = lite.SelectContext(ctx, &liteCols, `SELECT m.name AS "table", c.name AS "column", c.type AS "type",
		c."notnull" AS "notnull", c.pk AS pk FROM sqlite_schema m JOIN pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version' ORDER BY m.name, c.cid`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range liteCols {
		null := "YES"
		if c.NotNull == 1 || c.PK > 0 { // STRICT tables refuse NULL keys
			null = "NO"
		}
		got = append(got, fmt.Sprintf("%s.%s %s null=%s", c.Table, c.Column, c.Type, null))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SQLite columns:\n%s\nPostgreSQL columns:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var pgIdx, liteIdx []string
	if err := pg.SelectContext(ctx, &pgIdx, `SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND indexname LIKE '%\_idx' ORDER BY indexname`); err != nil {
		t.Fatal(err)
	}
	if err := lite.SelectContext(ctx, &liteIdx, `SELECT name FROM sqlite_schema
		WHERE type = 'index' AND name LIKE '%\_idx' ESCAPE '\' ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(liteIdx, pgIdx) || len(pgIdx) == 0 {
		t.Errorf("indexes: SQLite %v, PostgreSQL %v", liteIdx, pgIdx)
	}
}
