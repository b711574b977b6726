package ingest_test

import (
	"bufio"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/dvcqg"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// testBundle is one simulator on real HTTP, a store, and the clock of both.
type testBundle struct {
	sim *portalsim.Sim
	url string
	db  *store.DB
}

var simStart = time.Date(2026, 3, 2, 9, 0, 0, 0, sla.Location())

func setup(t *testing.T, db *store.DB, faults portalsim.Faults) testBundle {
	t.Helper()
	return setupWith(t, db, portalsim.Options{Faults: &faults})
}

// setupWith is setup with more options; seed, size, start and hang are set.
func setupWith(t *testing.T, db *store.DB, o portalsim.Options) testBundle {
	t.Helper()
	o.Seed, o.Dossiers, o.Start, o.Hang = 7, 300, simStart, 2*time.Second
	sim := portalsim.New(o)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return testBundle{sim: sim, url: srv.URL, db: db}
}

func (b testBundle) client(t *testing.T, kind config.ConnectorKind) connectors.Puller {
	t.Helper()
	cfg := config.Connector{
		Name: string(kind), Kind: kind, BaseURL: b.url, AuthPath: "/api/auth", ServicePath: "/api/service",
		AgencyCode: portalsim.DefaultAgencyCode, Username: portalsim.DefaultUsername,
		Password: config.NewSecret(portalsim.DefaultPassword), Timeout: 300 * time.Millisecond,
		RateLimit: 10000, Burst: 100, PageSize: 40, Window: 24 * time.Hour, MaxRetries: 12,
	}
	fast := httpx.WithBackoff(time.Millisecond, 20*time.Millisecond)
	var (
		c   connectors.Puller
		err error
	)
	if kind == config.KindDVCQG {
		c, err = dvcqg.New(cfg, fast)
	} else {
		c, err = onestop.New(cfg, fast)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sync runs a pass the way a scheduled task would: a pass that fails on a
// fault is run again (as asynq retries it) and must resume, not restart.
func (b testBundle) sync(t *testing.T, kind config.ConnectorKind) ingest.Result {
	t.Helper()
	p := b.client(t, kind)
	var total ingest.Result
	for attempt := 1; ; attempt++ {
		res, err := ingest.Run(context.Background(), b.db, string(kind), p, ingest.Options{
			Overlap: 10 * time.Minute, Clock: b.sim, Since: sinceFor(kind, b.db, t),
		})
		total = add(total, res)
		if err == nil {
			return total
		}
		if attempt == 5 {
			t.Fatalf("sync %s still failing after %d passes: %v", kind, attempt, err)
		}
	}
}

// sinceFor starts the first dvcqg pass before the simulated population, which
// reaches 90 days back; later passes use the stored cursor.
func sinceFor(kind config.ConnectorKind, db *store.DB, t *testing.T) time.Time {
	if _, ok, err := db.Cursor(context.Background(), string(kind)); err != nil {
		t.Fatal(err)
	} else if ok {
		return time.Time{}
	}
	return simStart.AddDate(0, 0, -100)
}

func add(a, b ingest.Result) ingest.Result {
	a.Fetched += b.Fetched
	a.Inserted += b.Inserted
	a.Updated += b.Updated
	a.Unchanged += b.Unchanged
	a.Stale += b.Stale
	a.Events += b.Events
	if a.Skipped == nil {
		a.Skipped = map[string]int{}
	}
	for k, v := range b.Skipped {
		a.Skipped[k] += v
	}
	return a
}

// state reads the simulator's ground truth over HTTP, decoded as the
// connector decodes its API records.
func (b testBundle) state(t *testing.T, kind config.ConnectorKind) map[string]dvcwatch.Dossier {
	t.Helper()
	resp, err := http.Get(b.url + "/sim/state?portal=" + string(kind))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]dvcwatch.Dossier{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d dvcwatch.Dossier
		if kind == config.KindDVCQG {
			d, err = dvcqg.Decode(string(kind), sc.Bytes())
		} else {
			d, _, err = onestop.Decode(string(kind), sc.Bytes())
		}
		if err != nil {
			t.Fatalf("decode state: %v", err)
		}
		out[d.Key.Code] = d
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertStoreEquals checks that the store holds exactly the state's dossiers
// of that source, field by field.
func (b testBundle) assertStoreEquals(t *testing.T, kind config.ConnectorKind, want map[string]dvcwatch.Dossier) {
	t.Helper()
	totals, err := b.db.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := totals.Dossiers[string(kind)]; n != len(want) {
		t.Errorf("store holds %d %s dossiers, the simulator %d", n, kind, len(want))
	}
	bad := 0
	for code, w := range want {
		got, err := b.db.GetDossier(context.Background(), w.Key)
		if err != nil {
			t.Errorf("%s: %v", code, err)
			bad++
		} else if g, w := normalized(got), normalized(w); !reflect.DeepEqual(g, w) {
			t.Errorf("%s differs:\n got %+v\nwant %+v", code, g, w)
			bad++
		}
		if bad > 3 {
			t.Fatal("more dossiers differ")
		}
	}
}

// normalized puts every time in UTC, drops empty child slices and puts text
// in Unicode NFC, as a stored dossier comes back: the store normalizes text,
// and the simulator's ground truth holds names sent decomposed (NFD).
func normalized(d dvcwatch.Dossier) dvcwatch.Dossier {
	d = d.NFC()
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			if t, ok := v.Interface().(time.Time); ok {
				if !t.IsZero() {
					v.Set(reflect.ValueOf(t.UTC()))
				}
				return
			}
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			if v.Len() == 0 {
				v.Set(reflect.Zero(v.Type()))
			}
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	v := reflect.ValueOf(&d).Elem()
	walk(v)
	return d
}

// changes counts what a sync between two states must report as status events:
// one per new dossier and one per changed status.
func changes(before, after map[string]dvcwatch.Dossier) int {
	n := 0
	for code, a := range after {
		if b, ok := before[code]; !ok || b.Status != a.Status {
			n++
		}
	}
	return n
}

func TestSyncMatchesSimulatorUnderEveryFault(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		faults portalsim.Faults
		kinds  []config.ConnectorKind
	}{
		{"no faults", portalsim.Faults{}, both},
		{"5xx", portalsim.Faults{ErrorRate: 0.3}, both},
		{"429 with Retry-After", portalsim.Faults{ThrottleRate: 0.3, RetryAfter: 0}, both},
		{"busy in the body", portalsim.Faults{BusyRate: 0.3, RetryAfter: 0}, both},
		{"byte-order marks", portalsim.Faults{BOMRate: 0.5}, both},
		{"whole-day windows", portalsim.Faults{DVCQGWholeDays: true}, onlyDVCQG},
		{"slow replies", portalsim.Faults{SlowMS: 20}, onlyOneStop},
		{"timeouts", portalsim.Faults{TimeoutRate: 0.1}, both},
		{"malformed JSON", portalsim.Faults{MalformedRate: 0.2}, both},
		{"truncated JSON", portalsim.Faults{TruncatedRate: 0.2}, both},
		{"expired sessions", portalsim.Faults{SessionExpiryRate: 0.2}, both},
		{"duplicates", portalsim.Faults{DuplicateRate: 0.3}, both},
		{"out of order", portalsim.Faults{OutOfOrder: 1}, onlyOneStop},
		{"bad records", portalsim.Faults{BadRecordRate: 0.2}, both},
		{"national copy missing and stale", portalsim.Faults{DVCQGMissingRate: 0.1, DVCQGMismatchRate: 0.1, DVCQGLagRate: 0.2}, onlyDVCQG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				b := setup(t, db, c.faults)
				for _, kind := range c.kinds {
					before := b.state(t, kind)
					res := b.sync(t, kind)
					b.assertStoreEquals(t, kind, before)
					if res.Events != len(before) {
						t.Errorf("%s: first sync made %d events, want one per dossier (%d)", kind, res.Events, len(before))
					}
					if c.faults.BadRecordRate > 0 && res.SkippedTotal() == 0 {
						t.Errorf("%s: bad records were served but none was skipped", kind)
					}

					// A second pass over the same state changes nothing.
					again := b.sync(t, kind)
					if again.Inserted+again.Updated+again.Events != 0 {
						t.Errorf("%s: second sync wrote %+v, want nothing", kind, again.PageResult)
					}

					// Time moves on: exactly the status changes become events.
					if _, err := b.sim.Advance(6 * 60); err != nil {
						t.Fatal(err)
					}
					after := b.state(t, kind)
					res = b.sync(t, kind)
					b.assertStoreEquals(t, kind, after)
					if want := changes(before, after); res.Events != want {
						t.Errorf("%s: sync after 6 h made %d events, want %d (new dossiers and status changes)", kind, res.Events, want)
					}
				}
			})
		})
	}
}

// A national portal that lists whole days for a window, and finds two days
// more than it lists at once, is read a whole day per call: nothing is lost,
// nothing is read twice into the store, and no window is halved forever.
func TestSyncReadsAPortalThatListsWholeDays(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		faults := portalsim.Faults{DVCQGWholeDays: true}
		// Days of national records: the limit lets every day through, not
		// every two days.
		perDay := map[string]int{}
		for _, d := range setupWith(t, db, portalsim.Options{Faults: &faults}).state(t, config.KindDVCQG) {
			perDay[d.SourceUpdatedAt.In(sla.Location()).Format(time.DateOnly)]++
		}
		days := slices.Sorted(maps.Keys(perDay))
		most, pair := 0, 0
		for i, d := range days {
			most = max(most, perDay[d])
			if i > 0 {
				pair = max(pair, perDay[d]+perDay[days[i-1]])
			}
		}
		limit := (most + pair) / 2
		if limit <= most || limit >= pair {
			t.Fatalf("days hold at most %d records, two days %d: no limit between", most, pair)
		}
		b := setupWith(t, db, portalsim.Options{Faults: &faults, MaxWindowRecords: limit})
		want := b.state(t, config.KindDVCQG)
		res := b.sync(t, config.KindDVCQG)
		b.assertStoreEquals(t, config.KindDVCQG, want)
		if res.Events != len(want) {
			t.Errorf("first sync made %d events, want one per dossier (%d)", res.Events, len(want))
		}
		if again := b.sync(t, config.KindDVCQG); again.Inserted+again.Updated+again.Events != 0 {
			t.Errorf("second sync wrote %+v, want nothing", again.PageResult)
		}
		if st := b.sim.Stats(); st.Requests["dvcqg_service"] > int64(3*len(days)+20) {
			t.Errorf("%d DanhSachHoSo calls for %d days of records: the windows did not settle on whole days", st.Requests["dvcqg_service"], len(days))
		}
	})
}

var (
	both        = []config.ConnectorKind{config.KindOneStop, config.KindDVCQG}
	onlyOneStop = []config.ConnectorKind{config.KindOneStop}
	onlyDVCQG   = []config.ConnectorKind{config.KindDVCQG}
)

// killAfter cancels the pass once n batches have been stored, as a crash would.
type killAfter struct {
	connectors.Puller
	n      int32
	cancel context.CancelFunc
}

func (k *killAfter) Pull(ctx context.Context, after connectors.Cursor, fn func(context.Context, connectors.Batch) error) error {
	var seen atomic.Int32
	return k.Puller.Pull(ctx, after, func(ctx context.Context, b connectors.Batch) error {
		if err := fn(ctx, b); err != nil {
			return err
		}
		if seen.Add(1) == k.n {
			k.cancel()
		}
		return nil
	})
}

func TestSyncKilledMidwayLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, portalsim.Faults{})
		want := b.state(t, config.KindOneStop)
		ctx, cancel := context.WithCancel(context.Background())
		p := &killAfter{Puller: b.client(t, config.KindOneStop), n: 3, cancel: cancel}
		first, err := ingest.Run(ctx, db, "onestop", p, ingest.Options{Clock: b.sim})
		if err == nil {
			t.Fatal("the killed pass reported success")
		}
		// What the killed pass stored is what the database holds: a page whose
		// commit raced the kill may be stored without being counted (the
		// client saw the cancellation, the server had committed), as after a
		// real crash.
		stored, err := db.CountDossiers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if stored == 0 || stored >= len(want) {
			t.Fatalf("killed pass stored %d of %d dossiers; the test needs a pass killed mid-way", stored, len(want))
		}
		if first.Inserted > stored {
			t.Errorf("killed pass counted %d inserted, but the database holds %d", first.Inserted, stored)
		}
		cur, ok, err := db.Cursor(context.Background(), "onestop")
		if err != nil || !ok {
			t.Fatalf("no cursor saved by the killed pass: %v", err)
		}
		if cur.Key == "" {
			t.Errorf("cursor %+v: want the keyset position of the last stored page", cur)
		}

		rest, err := ingest.Run(context.Background(), db, "onestop", b.client(t, config.KindOneStop), ingest.Options{Clock: b.sim})
		if err != nil {
			t.Fatal(err)
		}
		b.assertStoreEquals(t, config.KindOneStop, want)
		if got := stored + rest.Inserted; got != len(want) {
			t.Errorf("stored %d by the killed pass + %d inserted by the next, want %d in all", stored, rest.Inserted, len(want))
		}
		totals, err := db.Totals(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if totals.Events != len(want) {
			t.Errorf("%d status events, want exactly one per dossier (%d)", totals.Events, len(want))
		}
	})
}

// blockingPuller holds its pass open until released.
type blockingPuller struct{ started, release chan struct{} }

func (p blockingPuller) Pull(ctx context.Context, _ connectors.Cursor, _ func(context.Context, connectors.Batch) error) error {
	close(p.started)
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestOneSyncPerConnectorAtATime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		p := blockingPuller{started: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error, 1)
		go func() {
			_, err := ingest.Run(context.Background(), db, "onestop", p, ingest.Options{Holder: "replica-1"})
			done <- err
		}()
		<-p.started
		_, err := ingest.Run(context.Background(), db, "onestop", blockingPuller{}, ingest.Options{Holder: "replica-2"})
		if !errors.Is(err, ingest.ErrBusy) {
			t.Errorf("second pass: err = %v, want ErrBusy", err)
		}
		close(p.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Released: the next pass may run.
		q := blockingPuller{started: make(chan struct{}), release: make(chan struct{})}
		close(q.release)
		if _, err := ingest.Run(context.Background(), db, "onestop", q, ingest.Options{Holder: "replica-2"}); err != nil {
			t.Errorf("pass after release: %v", err)
		}
	})
}

// failingPuller fails every pass with err.
type failingPuller struct{ err error }

func (p failingPuller) Pull(context.Context, connectors.Cursor, func(context.Context, connectors.Batch) error) error {
	return p.err
}

// TestGateAndDoneRunInsideTheLease: a refusing gate ends the pass before it
// pulls, with the gate's error; Done is told the pass's outcome while the
// lease is still held, so that no other pass starts before it has recorded.
func TestGateAndDoneRunInsideTheLease(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	refused := errors.New("connector onestop: stopped after a permanent failure")
	p := blockingPuller{started: make(chan struct{}), release: make(chan struct{})} // never started
	_, err := ingest.Run(ctx, db, "onestop", p, ingest.Options{Holder: "a", Gate: func(context.Context) error { return refused }})
	if err != refused {
		t.Errorf("refused pass: err = %v, want the gate's", err)
	}
	select {
	case <-p.started:
		t.Error("a refused pass pulled")
	default:
	}

	rejected := errors.New(`onestop "onestop": token: bad credentials`)
	var told error
	held := false
	_, err = ingest.Run(ctx, db, "onestop", failingPuller{rejected}, ingest.Options{Holder: "a",
		Gate: func(context.Context) error { return nil },
		Done: func(ctx context.Context, err error) {
			told = err
			ok, lerr := db.TryLease(ctx, "sync:onestop", "b", time.Minute)
			held = lerr == nil && !ok
		}})
	if !errors.Is(err, rejected) || !errors.Is(told, rejected) || told.Error() != err.Error() {
		t.Errorf("pass ended with %v, Done was told %v; want the same", err, told)
	}
	if !held {
		t.Error("Done ran after the lease was released")
	}
}

func TestReconcileFindsWhatTheSimulatorHid(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, portalsim.Faults{DVCQGMissingRate: 0.1, DVCQGMismatchRate: 0.1})
		truth, mirror := b.state(t, config.KindOneStop), b.state(t, config.KindDVCQG)
		b.sync(t, config.KindOneStop)
		b.sync(t, config.KindDVCQG)
		res, err := db.Reconcile(context.Background(), store.ReconcileParams{
			Truth: "onestop", Mirror: "dvcqg", Now: b.sim.Now().Add(time.Hour), MaxLag: 0,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]dvcwatch.FindingKind{}
		for code, d := range truth {
			m, ok := mirror[code]
			switch {
			case d.Status == dvcwatch.StatusSubmitted:
			case !ok:
				want[code] = dvcwatch.FindingMissing
			case m.Status != d.Status:
				want[code] = dvcwatch.FindingStatusMismatch
			}
		}
		found, err := db.Findings(context.Background(), "onestop", "dvcqg")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]dvcwatch.FindingKind{}
		for _, f := range found {
			got[f.Code] = f.Kind
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("findings = %d %v\nwant %d %v", len(got), got, len(want), want)
		}
		if res.Missing+res.Mismatched != len(want) {
			t.Errorf("result %+v, want %d findings", res, len(want))
		}
	})
}

// scriptPuller returns its batches, whatever it is asked.
type scriptPuller []connectors.Batch

func (p scriptPuller) Pull(ctx context.Context, _ connectors.Cursor, fn func(context.Context, connectors.Batch) error) error {
	for _, b := range p {
		if err := fn(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// expectNewRecorder is a store that notes each page's ExpectNew.
type expectNewRecorder struct {
	ingest.Store
	got []bool
}

func (r *expectNewRecorder) ApplyPage(ctx context.Context, page store.Page) (store.PageResult, error) {
	r.got = append(r.got, page.ExpectNew)
	return r.Store.ApplyPage(ctx, page)
}

// A first pass tells the store its pages are new; a later pass does so only
// after a page that was mostly new.
func TestPagesExpectNewOnAFirstPassAndAfterMostlyNewPages(t *testing.T) {
	t.Parallel()
	at := simStart
	batch := func(codes ...string) connectors.Batch {
		var b connectors.Batch
		for _, c := range codes {
			at = at.Add(time.Minute)
			b.Dossiers = append(b.Dossiers, dvcwatch.Dossier{
				Key: dvcwatch.DossierKey{Code: c}, Status: dvcwatch.StatusReceived, SourceUpdatedAt: simStart,
			})
			b.Next = connectors.Cursor{UpdatedAt: at, Key: c}
		}
		return b
	}
	rec := &expectNewRecorder{Store: storetest.SQLite(t)}
	for _, pass := range []struct {
		batches scriptPuller
		want    []bool
	}{
		{scriptPuller{batch("A", "B"), batch("C", "D")}, []bool{true, true}},
		{scriptPuller{batch("A", "B"), batch("C", "E", "F"), batch("G"), batch("A")}, []bool{false, false, true, true}},
	} {
		rec.got = nil
		if _, err := ingest.Run(context.Background(), rec, "onestop", pass.batches, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rec.got, pass.want) {
			t.Errorf("ExpectNew of the pages = %v, want %v", rec.got, pass.want)
		}
	}
}
