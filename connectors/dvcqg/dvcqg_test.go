package dvcqg_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/dvcqg"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/connectors/httpx/httpxtest"
	"github.com/dvcwatch/dvcwatch/sla"
)

const (
	agency   = "000.00.31.H01"
	user     = "dvcwatch"
	password = "PASSWORD-Secret-1"
)

// portalNow is the fake portal's clock, sent as its Date header.
var portalNow = hcm(2026, 11, 3, 10, 30, 0)

// portal is the national portal's edge as our tests need it.
type portal struct {
	t   *testing.T
	mu  sync.Mutex
	now time.Time
	// records are the portal's dossiers, JSON objects with MaHoSo and NgayCapNhat.
	records []map[string]any
	limit   int // more records than this in a window answers 413
	// filter is how DanhSachHoSo reads a window: "" from ngayNhan1 up to but
	// excluding ngayNhan2, "inclusive" up to and including it, "days" as the
	// whole days of both, included.
	filter string
	// bom puts a UTF-8 byte-order mark before every JSON reply.
	bom bool
	// code writes error_code; default the number itself.
	code func(int) any
	// sessionCalls is how many calls a session serves before it expires (0: forever).
	sessionCalls int
	// faults answer the next service calls in place of the portal; a nil one
	// lets the portal answer.
	faults []http.HandlerFunc

	session  string
	used     int
	logins   int
	requests int
	calls    []string // service and window of each accepted call
}

func newPortal(t *testing.T, records ...map[string]any) *portal {
	return &portal{t: t, now: portalNow, records: records, code: func(c int) any { return c }}
}

func (p *portal) reply(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Date", p.now.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json")
	if p.bom {
		_, _ = w.Write([]byte("\uFEFF"))
	}
	_ = json.NewEncoder(w).Encode(v)
}

// in reports whether a record updated at is inside the window from..to as
// the portal reads windows.
func (p *portal) in(at, from, to time.Time) bool {
	switch p.filter {
	case "inclusive":
		return !at.Before(from) && !at.After(to)
	case "days":
		day := func(t time.Time) string { return t.Format(time.DateOnly) }
		return day(at) >= day(from) && day(at) <= day(to)
	}
	return !at.Before(from) && at.Before(to)
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		p.t.Errorf("request body: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	switch r.URL.Path {
	case "/api/auth":
		if r.Header.Get("dstcode") != agency || body["username"] != user || body["password"] != password {
			p.reply(w, map[string]any{"error_code": "401", "message": "Sai tên đăng nhập hoặc mật khẩu"})
			return
		}
		p.logins++
		p.session, p.used = fmt.Sprintf("SESSION-%d-TOKEN", p.logins), 0
		p.reply(w, map[string]any{"error_code": p.code(0), "message": "OK", "session": p.session})
		return
	case "/api/service":
	default:
		http.NotFound(w, r)
		return
	}
	if len(p.faults) > 0 {
		f := p.faults[0]
		p.faults = p.faults[1:]
		if f != nil {
			f(w, r)
			return
		}
	}
	if body["madonvi"] != agency {
		p.t.Errorf("madonvi = %q", body["madonvi"])
	}
	if body["session"] != p.session || (p.sessionCalls > 0 && p.used >= p.sessionCalls) {
		p.reply(w, map[string]any{"error_code": p.code(401), "message": "Phiên làm việc hết hạn"})
		return
	}
	p.used++
	switch body["service"] {
	case "DanhSachHoSo":
		p.calls = append(p.calls, body["ngayNhan1"]+".."+body["ngayNhan2"])
		from := p.parse(body["ngayNhan1"])
		to := p.parse(body["ngayNhan2"])
		result := []map[string]any{}
		for _, rec := range p.records {
			if p.in(p.parse(rec["NgayCapNhat"].(string)), from, to) {
				result = append(result, rec)
			}
		}
		if p.limit > 0 && len(result) > p.limit {
			p.reply(w, map[string]any{"error_code": p.code(413), "message": "Quá nhiều hồ sơ"})
			return
		}
		p.reply(w, map[string]any{"error_code": p.code(0), "message": "OK", "result": result})
	case "TraCuuHoSo":
		p.calls = append(p.calls, "TraCuuHoSo "+body["mahoso"])
		for _, rec := range p.records {
			if rec["MaHoSo"] == body["mahoso"] {
				p.reply(w, map[string]any{"error_code": p.code(0), "result": rec})
				return
			}
		}
		p.reply(w, map[string]any{"error_code": p.code(404), "message": "Không tìm thấy hồ sơ"})
	default:
		p.reply(w, map[string]any{"error_code": p.code(400), "message": "unknown service"})
	}
}

func (p *portal) parse(s string) time.Time {
	t, err := time.ParseInLocation(dvcqg.DateLayout, s, sla.Location())
	if err != nil {
		p.t.Errorf("portal got date %q: %v", s, err)
	}
	return t
}

func (p *portal) stats() (logins, requests int, calls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logins, p.requests, slices.Clone(p.calls)
}

// rec is a portal record of dossier code updated at.
func rec(code string, at time.Time) map[string]any {
	return httpxtest.With(fullRecord(), "MaHoSo", code, "NgayCapNhat", at.Format(dvcqg.DateLayout))
}

type testBundle struct {
	portal *portal
	client *dvcqg.Client
	*httpxtest.Doubles
}

func setup(t *testing.T, p *portal, edit func(*config.Connector), opts ...dvcqg.Option) *testBundle {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	b := &testBundle{portal: p, Doubles: &httpxtest.Doubles{}}
	cfg := config.Connector{
		Name: "dvcqg", Kind: config.KindDVCQG, BaseURL: srv.URL, AuthPath: "/api/auth", ServicePath: "/api/service",
		AgencyCode: agency, Username: user, Password: config.NewSecret(password),
		Timeout: 300 * time.Millisecond, RateLimit: 5, Burst: 1, Window: 24 * time.Hour, MaxRetries: 3,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := dvcqg.New(cfg, append(b.Options(func() time.Time { return portalNow }), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	b.client = c
	return b
}

// got is one batch, summarised.
type got struct {
	Next    string
	Codes   []string
	Skipped []string
}

func (b *testBundle) pull(ctx context.Context, after time.Time) ([]got, error) {
	var out []got
	err := b.client.Pull(ctx, connectors.Cursor{UpdatedAt: after}, func(_ context.Context, batch connectors.Batch) error {
		g := got{Next: batch.Next.UpdatedAt.Format(dvcqg.DateLayout)}
		if batch.Next.Key != "" {
			g.Next += " key " + batch.Next.Key
		}
		for _, d := range batch.Dossiers {
			g.Codes = append(g.Codes, d.Key.Code)
		}
		for _, s := range batch.Skipped {
			g.Skipped = append(g.Skipped, s.Code+": "+s.Reason)
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

func fmtTime(t time.Time) string { return t.Format(dvcqg.DateLayout) }

func TestPullWindows(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	start := portalNow.Add(-50 * time.Hour) // 2026-11-01 08:30
	tests := []struct {
		name    string
		after   time.Time
		records []map[string]any
		want    []got
		calls   []string
	}{
		{
			name:  "windows up to the portal's clock",
			after: start,
			records: []map[string]any{
				rec("A", start), rec("B", start.Add(day-time.Second)), rec("C", start.Add(day)),
				rec("D", portalNow.Add(-time.Second)), rec("late", portalNow),
			},
			want: []got{ // windows end at midnight
				{Next: "20261102000000", Codes: []string{"A"}},
				{Next: "20261103000000", Codes: []string{"B", "C"}},
				{Next: fmtTime(portalNow), Codes: []string{"D"}},
			},
			calls: []string{
				"20261101083000..20261102000000", "20261102000000..20261103000000", "20261103000000..20261103103000",
			},
		},
		{
			name:    "one window reaching past the clock ends at the clock",
			after:   portalNow.Add(-2 * time.Hour),
			records: []map[string]any{rec("A", portalNow.Add(-time.Hour))},
			want:    []got{{Next: fmtTime(portalNow), Codes: []string{"A"}}},
			calls:   []string{"20261103083000..20261104000000"},
		},
		{
			name:    "empty windows merge into the next batch",
			after:   portalNow.Add(-5 * day),
			records: []map[string]any{rec("A", portalNow.Add(-2*day-time.Hour))},
			want: []got{
				{Next: "20261102000000", Codes: []string{"A"}},
				{Next: fmtTime(portalNow)},
			},
			calls: []string{
				"20261029103000..20261030000000", "20261030000000..20261031000000", "20261031000000..20261101000000",
				"20261101000000..20261102000000", "20261102000000..20261103000000", "20261103000000..20261103103000",
			},
		},
		{
			name:  "a cursor past the portal's clock reads nothing",
			after: portalNow.Add(time.Hour),
			calls: []string{"20261103113000..20261104000000"},
		},
		{
			name:  "sub-second cursor starts at its second",
			after: start.Add(400 * time.Millisecond),
			want: []got{
				{Next: fmtTime(portalNow)}, // two empty windows, one batch
			},
			calls: []string{
				"20261101083000..20261102000000", "20261102000000..20261103000000", "20261103000000..20261103103000",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, newPortal(t, tt.records...), nil)
			batches, err := b.pull(t.Context(), tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(batches) != fmt.Sprint(tt.want) {
				t.Errorf("batches\n got %v\nwant %v", batches, tt.want)
			}
			if _, _, calls := b.portal.stats(); fmt.Sprint(calls) != fmt.Sprint(tt.calls) {
				t.Errorf("windows asked\n got %v\nwant %v", calls, tt.calls)
			}
		})
	}
}

func TestPullMergesAtMostADayOfEmptyWindows(t *testing.T) {
	t.Parallel()
	b := setup(t, newPortal(t), func(c *config.Connector) { c.Window = time.Hour })
	batches, err := b.pull(t.Context(), portalNow.Add(-30*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// 20 windows to midnight (the last one half an hour), 4 after it.
	want := []got{{Next: "20261103040000"}, {Next: fmtTime(portalNow)}}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches\n got %v\nwant %v", batches, want)
	}
}

func TestPullKeepsQuietProgressWhenAWindowFails(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.faults = []http.HandlerFunc{nil, nil, portalError("500", "Lỗi hệ thống")}
	b := setup(t, p, nil)
	batches, err := b.pull(t.Context(), portalNow.Add(-72*time.Hour))
	if !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v, want the third window's permanent error", err)
	}
	// The two empty windows read before the failure still move the cursor.
	want := []got{{Next: "20261102000000"}}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches\n got %v\nwant %v", batches, want)
	}
}

func TestPullHalvesFullWindows(t *testing.T) {
	t.Parallel()
	start := hcm(2026, 11, 2, 0, 0, 0)
	p := newPortal(t,
		rec("A", start.Add(time.Hour)), rec("B", start.Add(2*time.Hour)), rec("C", start.Add(7*time.Hour)),
		rec("D", start.Add(13*time.Hour)), rec("E", start.Add(25*time.Hour)))
	p.limit = 2
	b := setup(t, p, nil)
	batches, err := b.pull(t.Context(), start)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{Next: "20261102060000", Codes: []string{"A", "B"}},
		{Next: "20261102180000", Codes: []string{"C", "D"}},
		{Next: "20261103103000", Codes: []string{"E"}},
	}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches\n got %v\nwant %v", batches, want)
	}
	_, _, calls := p.stats()
	wantCalls := []string{
		"20261102000000..20261103000000", // 413: A–D
		"20261102000000..20261102235959", // the day alone, in case the portal added the next one: 413
		"20261102000000..20261102000000", // one second: none, so the portal reads windows to the second
		"20261102000000..20261102120000", // 413: A–C
		"20261102000000..20261102060000", // A, B
		"20261102060000..20261102180000", // the window grows back: C, D
		"20261102180000..20261103000000", // up to midnight: none
		"20261103000000..20261103103000", // E, up to the clock
	}
	if fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
		t.Errorf("windows asked\n got %v\nwant %v", calls, wantCalls)
	}
	if s := b.Sleeps.All(); len(s) != 0 {
		t.Errorf("halving slept %v; it is no retry", s)
	}
}

func TestPullFailsWhenAMinuteIsTooFull(t *testing.T) {
	t.Parallel()
	start := hcm(2026, 11, 2, 0, 0, 0)
	p := newPortal(t, rec("A", start.Add(10*time.Second)), rec("B", start.Add(20*time.Second)), rec("C", start.Add(30*time.Second)))
	p.limit = 2
	p.code = func(c int) any { return fmt.Sprint(c) }
	b := setup(t, p, func(c *config.Connector) { c.Window = 3 * time.Minute })
	batches, err := b.pull(t.Context(), start)
	want := `dvcqg "dvcqg": DanhSachHoSo 20261102000000..20261102000100: portal error_code 413: Quá nhiều hồ sơ: too many records even in a window of 1m0s`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, connectors.ErrPermanent) {
		t.Errorf("err is not permanent")
	}
	if len(batches) != 0 {
		t.Errorf("batches = %v, want none", batches)
	}
	_, _, calls := p.stats()
	wantCalls := []string{"20261102000000..20261102000300", "20261102000000..20261102000000",
		"20261102000000..20261102000130", "20261102000000..20261102000100"}
	if fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
		t.Errorf("windows asked\n got %v\nwant %v", calls, wantCalls)
	}
}

// However the portal reads a window's ends, a pull reads every record, and
// one that lists whole days is then read a whole day per call.
func TestPullWithEveryWindowReading(t *testing.T) {
	t.Parallel()
	at := func(d, h, m, s int) time.Time { return hcm(2026, 11, d, h, m, s) }
	records := []map[string]any{
		rec("A", at(1, 8, 0, 0)), rec("B", at(1, 23, 59, 59)),
		rec("C", at(2, 0, 0, 0)), rec("D", at(2, 12, 0, 0)), rec("E", at(2, 23, 59, 59)),
		rec("F", at(3, 0, 0, 0)), rec("G", at(3, 9, 0, 0)),
	}
	all := []string{"A", "B", "C", "D", "E", "F", "G"}
	tests := []struct {
		name    string
		filter  string
		limit   int
		records []map[string]any
		want    []string
		calls   []string
	}{
		{
			name: "to the second, end excluded", limit: 3, records: records, want: all,
			calls: []string{"20261101000000..20261102000000", "20261102000000..20261103000000", "20261103000000..20261103103000"},
		},
		{
			name: "to the second, end included", filter: "inclusive", limit: 3, records: records, want: all,
			calls: []string{
				"20261101000000..20261102000000", // A, B, C
				"20261102000000..20261103000000", // C, D, E, F: 413
				"20261102000000..20261102235959", // C, D, E
				"20261102235959..20261103000000", // the last second: E, F
				"20261103000000..20261103103000", // F, G
			},
		},
		{
			name: "to the second, the last second tips the day over", limit: 2,
			records: []map[string]any{rec("A", at(2, 10, 0, 0)), rec("B", at(2, 12, 0, 0)), rec("C", at(2, 23, 59, 59))},
			want:    []string{"A", "B", "C"},
			calls: []string{
				"20261101000000..20261102000000",
				"20261102000000..20261103000000", // 413
				"20261102000000..20261102235959", // A, B
				"20261102235959..20261103000000", // C
				"20261103000000..20261103103000",
			},
		},
		{
			name: "whole days, both ends included", filter: "days", limit: 3, records: records, want: all,
			calls: []string{
				"20261101000000..20261102000000", // days 1 and 2: 413
				"20261101000000..20261101235959", // day 1: A, B
				"20261101235959..20261102000000", // days 1 and 2 again: 413, so the portal lists whole days
				"20261101235959..20261101235959", // day 1 again, read whole
				"20261102000000..20261102235959", // a single whole day: C, D, E
				"20261103000000..20261103103000", // F, G
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t, tt.records...)
			p.filter, p.limit = tt.filter, tt.limit
			b := setup(t, p, nil)
			batches, err := b.pull(t.Context(), at(1, 0, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, g := range batches {
				for _, code := range g.Codes {
					seen[code] = true
				}
			}
			if got := slices.Sorted(maps.Keys(seen)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("dossiers read %v, want %v", got, tt.want)
			}
			if last := batches[len(batches)-1].Next; last != fmtTime(portalNow) {
				t.Errorf("last batch ends at %s, want the portal's clock", last)
			}
			if _, _, calls := p.stats(); fmt.Sprint(calls) != fmt.Sprint(tt.calls) {
				t.Errorf("windows asked\n got %v\nwant %v", calls, tt.calls)
			}
		})
	}
}

// A portal that lists whole days and finds one day too full fails the pull
// with the day named, after a few calls, and at once on the next pull.
func TestPullFailsWhenAWholeDayIsTooFull(t *testing.T) {
	t.Parallel()
	day := hcm(2026, 11, 2, 0, 0, 0)
	p := newPortal(t, rec("A", day.Add(9*time.Hour)), rec("B", day.Add(10*time.Hour)), rec("C", day.Add(11*time.Hour)))
	p.filter, p.limit = "days", 2
	b := setup(t, p, nil)
	want := `dvcqg "dvcqg": DanhSachHoSo 20261102080000..20261102235959: portal error_code 413: Quá nhiều hồ sơ: ` +
		`the portal lists whole days, and 2026-11-02 alone holds more dossiers than it lists at once`
	_, err := b.pull(t.Context(), day.Add(8*time.Hour))
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v\nwant permanent %s", err, want)
	}
	wantCalls := []string{
		"20261102080000..20261103000000", // 413
		"20261102080000..20261102235959", // 413
		"20261102080000..20261102080000", // one second, and still 413: the portal lists whole days
	}
	if _, _, calls := p.stats(); fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
		t.Errorf("windows asked\n got %v\nwant %v", calls, wantCalls)
	}
	if _, err := b.pull(t.Context(), day.Add(8*time.Hour)); err == nil || err.Error() != want {
		t.Fatalf("second pull: err = %v\nwant %s", err, want)
	}
	if _, _, calls := p.stats(); len(calls) != len(wantCalls)+1 {
		t.Errorf("the second pull asked %v, want the day once", calls[len(wantCalls):])
	}
}

// A byte-order mark before every reply's JSON is ignored, without retries.
func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	p := newPortal(t, rec("A", portalNow.Add(-time.Hour)))
	p.bom = true
	b := setup(t, p, nil)
	batches, err := b.pull(t.Context(), portalNow.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := []got{{Next: fmtTime(portalNow), Codes: []string{"A"}}}; fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", batches, want)
	}
	if d, found, err := b.client.Lookup(t.Context(), "A"); err != nil || !found || d.Key.Code != "A" {
		t.Errorf("Lookup(A) = %v, %v, %v", d.Key, found, err)
	}
	if s := b.Sleeps.All(); len(s) != 0 {
		t.Errorf("retried after %v", s)
	}
}

func TestErrorCodeForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code func(int) any
	}{
		{"number", func(c int) any { return c }},
		{"string", func(c int) any { return fmt.Sprint(c) }},
		{"two-digit string", func(c int) any {
			if c == 0 {
				return "00"
			}
			return fmt.Sprint(c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t, rec("A", portalNow.Add(-time.Hour)))
			p.code = tt.code
			p.sessionCalls = 1 // every other call meets error_code 401 in this form
			b := setup(t, p, nil)
			batches, err := b.pull(t.Context(), portalNow.Add(-2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(batches) != 1 || len(batches[0].Codes) != 1 {
				t.Errorf("batches = %v", batches)
			}
			d, found, err := b.client.Lookup(t.Context(), "A")
			if err != nil || !found || d.Key.Code != "A" {
				t.Errorf("Lookup(A) = %v, %v, %v", d.Key, found, err)
			}
			_, found, err = b.client.Lookup(t.Context(), "missing")
			if err != nil || found {
				t.Errorf("Lookup(missing) = found %v, %v; want a 404 to be not found", found, err)
			}
			if logins, _, _ := p.stats(); logins != 3 {
				t.Errorf("logins = %d, want 3 (one per call)", logins)
			}
		})
	}
}

func TestSessionRenewalIsNoRetry(t *testing.T) {
	t.Parallel()
	p := newPortal(t, rec("A", portalNow.Add(-30*time.Hour)), rec("B", portalNow.Add(-time.Hour)))
	p.sessionCalls = 1
	b := setup(t, p, func(c *config.Connector) { c.MaxRetries = 0 })
	batches, err := b.pull(t.Context(), portalNow.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 2 {
		t.Errorf("batches = %v", batches)
	}
	// Three windows (the first ends at midnight), a session each.
	if logins, _, _ := p.stats(); logins != 3 {
		t.Errorf("logins = %d, want 3", logins)
	}
	if !strings.Contains(b.Logs.String(), "logging in again") {
		t.Errorf("renewal not logged:\n%s", &b.Logs)
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*config.Connector)
		fault http.HandlerFunc
		want  string
	}{
		{
			name: "error_code 401",
			edit: func(c *config.Connector) { c.Password = config.NewSecret("wrong") },
			want: `dvcqg "dvcqg": login: bad credentials for user "dvcwatch": portal error_code 401: Sai tên đăng nhập hoặc mật khẩu`,
		},
		{
			name: "HTTP 401",
			fault: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			},
			want: `dvcqg "dvcqg": login: bad credentials for user "dvcwatch": HTTP 401 Unauthorized: unauthorized`,
		},
		{
			name: "HTTP 403",
			fault: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "forbidden", http.StatusForbidden)
			},
			want: `dvcqg "dvcqg": login: HTTP 403 Forbidden: forbidden`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t)
			var h http.Handler = p
			if tt.fault != nil {
				h = tt.fault
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			b := setup(t, p, func(c *config.Connector) {
				c.BaseURL = srv.URL
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			_, err := b.pull(t.Context(), portalNow.Add(-time.Hour))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
			if !errors.Is(err, connectors.ErrPermanent) {
				t.Error("err is not permanent")
			}
			if n := b.Limiter.Waits(); n != 1 {
				t.Errorf("requests = %d, want 1: a refused login is not retried", n)
			}
		})
	}
}

func portalError(code, msg string) http.HandlerFunc {
	return httpxtest.Body(fmt.Sprintf(`{"error_code":%q,"message":%q}`, code, msg))
}

// busy answers 200 with error_code code (a string or a number) saying the
// portal is busy, and a Retry-After when retryAfter is not "".
func busy(code any, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		c, _ := json.Marshal(code)
		httpxtest.Body(fmt.Sprintf(`{"error_code":%s,"message":"Hệ thống đang bận, vui lòng thử lại sau"}`, c))(w, r)
	}
}

func TestBusyCodeExhaustedIsRateLimited(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.faults = []http.HandlerFunc{busy("429", "2"), busy("429", "2"), busy("429", "2"), busy("429", "2")}
	b := setup(t, p, nil)
	_, err := b.pull(t.Context(), hcm(2026, 11, 1, 0, 0, 0))
	want := `dvcqg "dvcqg": DanhSachHoSo 20261101000000..20261102000000: gave up after 4 attempts: portal error_code 429: Hệ thống đang bận, vui lòng thử lại sau`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, connectors.ErrRateLimited) {
		t.Errorf("want a rate-limited, not permanent, error")
	}
	if got := b.Sleeps.All(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v, want the Retry-After each time", got)
	}
}

func TestUnknownErrorCodeIsPermanent(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.faults = []http.HandlerFunc{portalError("500", "Lỗi hệ thống")}
	b := setup(t, p, nil)
	_, err := b.pull(t.Context(), hcm(2026, 11, 1, 0, 0, 0))
	want := `dvcqg "dvcqg": DanhSachHoSo 20261101000000..20261102000000: portal error_code 500: Lỗi hệ thống`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, connectors.ErrPermanent) {
		t.Error("err is not permanent")
	}
	if s := b.Sleeps.All(); len(s) != 0 {
		t.Errorf("retried after %v", s)
	}
}

func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	status, raw := httpxtest.Status, httpxtest.Body
	ms := time.Millisecond
	tests := []struct {
		name   string
		faults []http.HandlerFunc
		waits  []time.Duration
	}{
		{"5xx then success", []http.HandlerFunc{status(500), status(502)}, []time.Duration{ms, 2 * ms}},
		{"429 with Retry-After", []http.HandlerFunc{status(429, "Retry-After", "5")}, []time.Duration{5 * time.Second}},
		{"503 with a Retry-After date", []http.HandlerFunc{status(503, "Retry-After", portalNow.Add(20*time.Second).UTC().Format(http.TimeFormat))},
			[]time.Duration{20 * time.Second}},
		{"malformed JSON", []http.HandlerFunc{raw(`<html>Gateway</html>`)}, []time.Duration{ms}},
		{"truncated JSON", []http.HandlerFunc{raw(`{"error_code":0,"result":[{"MaHoSo":"A",`)}, []time.Duration{ms}},
		{"body cut short", []http.HandlerFunc{httpxtest.Cut(`{"error_code":0,"result":[{"MaHoSo":"A",`)}, []time.Duration{ms}},
		{"no error_code", []http.HandlerFunc{raw(`{"result":[]}`)}, []time.Duration{ms}},
		{"timeout", []http.HandlerFunc{httpxtest.Hang}, []time.Duration{ms}},
		{"error_code 503 with Retry-After", []http.HandlerFunc{busy("503", "3")}, []time.Duration{3 * time.Second}},
		{"error_code 429", []http.HandlerFunc{busy("429", ""), busy(429, "")}, []time.Duration{ms, 2 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t, rec("A", portalNow.Add(-time.Hour)))
			p.faults = tt.faults
			b := setup(t, p, nil)
			batches, err := b.pull(t.Context(), portalNow.Add(-2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := []got{{Next: fmtTime(portalNow), Codes: []string{"A"}}}
			if fmt.Sprint(batches) != fmt.Sprint(want) {
				t.Errorf("batches = %v, want %v", batches, want)
			}
			if got := b.Sleeps.All(); fmt.Sprint(got) != fmt.Sprint(tt.waits) {
				t.Errorf("waits = %v, want %v", got, tt.waits)
			}
			_, requests, _ := p.stats()
			if n := b.Limiter.Waits(); n != requests {
				t.Errorf("rate limiter waits = %d, requests = %d: every request waits", n, requests)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	busy := httpxtest.Status(http.StatusTooManyRequests, "Retry-After", "1")
	p.faults = []http.HandlerFunc{busy, busy, busy, busy}
	b := setup(t, p, nil)
	_, err := b.pull(t.Context(), hcm(2026, 11, 1, 0, 0, 0))
	want := `dvcqg "dvcqg": DanhSachHoSo 20261101000000..20261102000000: gave up after 4 attempts: HTTP 429 Too Many Requests: status 429`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, connectors.ErrRateLimited) {
		t.Errorf("want a rate-limited, not permanent, error")
	}
	if connectors.RetryAfter(err) != time.Second {
		t.Errorf("RetryAfter = %s, want 1s", connectors.RetryAfter(err))
	}
}

func TestPullSkipsAndDedupes(t *testing.T) {
	t.Parallel()
	at := portalNow.Add(-time.Hour)
	p := newPortal(t,
		rec("A", at.Add(2*time.Minute)),
		httpxtest.With(rec("A", at.Add(5*time.Minute)), "TrangThaiHoSo", 9), // the newer copy wins
		rec("A", at.Add(time.Minute)),
		httpxtest.With(rec("B", at), "NgayTiepNhan", "2026-13-45"),
		httpxtest.With(rec("C", at), "TrangThaiHoSo", 11),
		httpxtest.With(rec("", at)),
		rec("D", at),
	)
	b := setup(t, p, nil)
	var batches []connectors.Batch
	err := b.client.Pull(t.Context(), connectors.Cursor{UpdatedAt: portalNow.Add(-2 * time.Hour)},
		func(_ context.Context, batch connectors.Batch) error {
			batches = append(batches, batch)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 {
		t.Fatalf("batches = %d", len(batches))
	}
	var codes []string
	for _, d := range batches[0].Dossiers {
		codes = append(codes, fmt.Sprintf("%s@%s/%d", d.Key.Code, d.SourceUpdatedAt.Format("15:04"), d.Status))
	}
	if want := []string{"D@09:30/4", "A@09:35/9"}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("dossiers = %v, want %v", codes, want)
	}
	wantSkips := []connectors.Skip{
		{Code: "B", Reason: `NgayTiepNhan "2026-13-45": not yyyyMMddHHmmss`},
		{Code: "C", Reason: "TrangThaiHoSo 11: not a status 1–10"},
		{Code: "", Reason: "MaHoSo missing"},
	}
	if fmt.Sprint(batches[0].Skipped) != fmt.Sprint(wantSkips) {
		t.Errorf("skipped = %v\nwant %v", batches[0].Skipped, wantSkips)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	p := newPortal(t, rec("A", portalNow.Add(-time.Hour)), httpxtest.With(rec("BAD", portalNow), "TrangThaiHoSo", 0))
	// The third lookup meets a null result.
	p.faults = []http.HandlerFunc{nil, nil, httpxtest.Body(`{"error_code":"0","result":null}`)}
	b := setup(t, p, nil)
	d, found, err := b.client.Lookup(t.Context(), "A")
	if err != nil || !found || d.Key.Code != "A" || d.Status != 4 {
		t.Errorf("Lookup(A) = %+v, %v, %v", d.Key, found, err)
	}
	_, found, err = b.client.Lookup(t.Context(), "B")
	if err != nil || found {
		t.Errorf("Lookup(B) = %v, %v; want not found", found, err)
	}
	_, found, err = b.client.Lookup(t.Context(), "C")
	if err != nil || found {
		t.Errorf("Lookup(C) with a null result = %v, %v; want not found", found, err)
	}
	_, _, err = b.client.Lookup(t.Context(), "BAD")
	want := `dvcqg "dvcqg": TraCuuHoSo BAD: unusable record: TrangThaiHoSo 0: not a status 1–10`
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Errorf("Lookup(BAD) err = %v\nwant permanent %s", err, want)
	}
}

func TestPullNeedsAStart(t *testing.T) {
	t.Parallel()
	b := setup(t, newPortal(t), nil)
	_, err := b.pull(t.Context(), time.Time{})
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "needs a start") {
		t.Errorf("err = %v", err)
	}
}

func TestPullStopsAtTheCallbacksError(t *testing.T) {
	t.Parallel()
	b := setup(t, newPortal(t, rec("A", portalNow.Add(-40*time.Hour)), rec("B", portalNow.Add(-time.Hour))), nil)
	stop := errors.New("store is down")
	n := 0
	err := b.client.Pull(t.Context(), connectors.Cursor{UpdatedAt: portalNow.Add(-48 * time.Hour)},
		func(context.Context, connectors.Batch) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err = %v after %d batches, want the callback's error after 1", err, n)
	}
}

func TestPullReturnsPromptlyWhenCancelled(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	p.faults = []http.HandlerFunc{httpxtest.Hang}
	b := setup(t, p, func(c *config.Connector) { c.Timeout = time.Hour })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	started := time.Now()
	_, err := b.pull(ctx, portalNow.Add(-time.Hour))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(started); took > 2*time.Second {
		t.Errorf("Pull returned %s after the cancel", took)
	}
}

func TestRateLimiterWaitsBeforeEveryRequest(t *testing.T) {
	t.Parallel()
	p := newPortal(t, rec("A", portalNow.Add(-30*time.Hour)))
	p.sessionCalls = 1
	p.faults = []http.HandlerFunc{httpxtest.Status(502)}
	b := setup(t, p, nil)
	if _, err := b.pull(t.Context(), portalNow.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	logins, requests, _ := p.stats()
	// 4 windows (the first ends at midnight), a 502 retried, and for the
	// 2nd to 4th windows a call refused with error_code 401 and a new login.
	if logins != 4 || requests != 12 {
		t.Errorf("logins = %d, requests = %d; want 4 and 12", logins, requests)
	}
	if n := b.Limiter.Waits(); n != requests {
		t.Errorf("limiter waits = %d, want %d", n, requests)
	}
}

func TestDefaultLimiterUsesConfiguredRate(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	c, err := dvcqg.New(config.Connector{
		Name: "dvcqg", Kind: config.KindDVCQG, BaseURL: srv.URL, AgencyCode: agency, Username: user,
		Password: config.NewSecret(password), Timeout: time.Second, RateLimit: 0.001, Burst: 2,
		Window: time.Hour, MaxRetries: 0,
	}, httpx.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	// Burst 2 lets a login and one call through; the third request would wait
	// ~1000 s for a token, which a short deadline refuses at once.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, _, err = c.Lookup(ctx, "A")
	if err != nil {
		t.Fatalf("first two requests: %v", err)
	}
	_, _, err = c.Lookup(ctx, "A")
	if err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("third request err = %v, want the rate limit to hold it", err)
	}
	if _, requests, _ := p.stats(); requests != 2 {
		t.Errorf("portal saw %d requests, want 2", requests)
	}
}

func TestLogsCarryNoSecretsOrPersonalData(t *testing.T) {
	t.Parallel()
	p := newPortal(t, rec("A", portalNow.Add(-30*time.Hour)), httpxtest.With(rec("B", portalNow.Add(-time.Hour)), "NgayTra", "bad"))
	p.sessionCalls = 1
	p.faults = []http.HandlerFunc{httpxtest.Status(500)}
	b := setup(t, p, nil)
	if _, err := b.pull(t.Context(), portalNow.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.client.Lookup(t.Context(), "A"); err != nil {
		t.Fatal(err)
	}
	logs := b.Logs.String()
	if !strings.Contains(logs, "retrying") || !strings.Contains(logs, "logged in") {
		t.Fatalf("expected retry and login logs, got:\n%s", logs)
	}
	r := fullRecord()
	for _, secret := range []string{password, "SESSION-", r["ChuHoSo"].(string), r["Email"].(string),
		r["SoDienThoai"].(string), r["SoGiayToChuHoSo"].(string)} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  config.Connector
		want string
	}{
		{config.Connector{Name: "x", Kind: config.KindOneStop}, `dvcqg "x": kind is "onestop", want "dvcqg"`},
		{config.Connector{Name: "x", Kind: config.KindDVCQG, BaseURL: "http://p", Timeout: time.Second, RateLimit: 1, Burst: 1},
			`dvcqg "x": agency_code: required; window: must be at least 1s, found 0s`},
	}
	for _, tt := range tests {
		if _, err := dvcqg.New(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("New err = %v\nwant %s", err, tt.want)
		}
	}
}
