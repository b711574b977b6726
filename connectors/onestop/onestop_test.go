package onestop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/httpx/httpxtest"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
)

const (
	user     = "dvcwatch"
	password = "PASSWORD-Secret-2"
)

var t0 = hcm(2026, 11, 3, 10, 0, 0)

// api is the one-stop system's edge as our tests need it: real keyset paging
// over items, tokens that expire on a shared clock, and injected faults.
type api struct {
	t     *testing.T
	mu    sync.Mutex
	now   time.Time
	items []map[string]any // each with code and updated_at
	// mess shuffles each page and adds a stale copy of one item, as the
	// real system sometimes does.
	mess bool
	// bom puts a UTF-8 byte-order mark before every reply's body.
	bom bool
	// page, when set, replaces the keyset page for the given query.
	page      func(q string) (string, bool)
	expiresIn int
	// tokenCalls is how many calls a token serves before the API rejects it (0: forever).
	tokenCalls int
	// faults answer the next dossier requests in place of the API; a nil
	// one lets the API answer.
	faults []http.HandlerFunc

	tokens    map[string]time.Time // token → issued at
	used      map[string]int
	logins    int
	rejected  int // calls answered 401
	requests  int
	queries   []string
	lastToken string
}

func newAPI(t *testing.T, items ...map[string]any) *api {
	return &api{t: t, now: t0, items: items, expiresIn: 1800, tokens: map[string]time.Time{}, used: map[string]int{}}
}

func (a *api) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *api) advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

// bomWriter puts a UTF-8 byte-order mark before a reply's body.
type bomWriter struct {
	http.ResponseWriter
	started bool
}

func (w *bomWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		if _, err := w.ResponseWriter.Write([]byte("\uFEFF")); err != nil {
			return 0, err
		}
	}
	return w.ResponseWriter.Write(b)
}

// busy answers status with an error body code, and a Retry-After when
// retryAfter is not "".
func busy(status int, code, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, status, map[string]any{"error": code, "message": "Hệ thống đang bảo trì"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if a.bom {
		w = &bomWriter{ResponseWriter: w}
	}
	if r.URL.Path == "/api/v1/auth/token" {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.Method != http.MethodPost || body["username"] != user || body["password"] != password {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_grant"})
			return
		}
		a.logins++
		tok := fmt.Sprintf("TOKEN-%d-SECRET", a.logins)
		a.tokens[tok] = a.now
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": a.expiresIn})
		return
	}
	if len(a.faults) > 0 {
		f := a.faults[0]
		a.faults = a.faults[1:]
		if f != nil {
			f(w, r)
			return
		}
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	issued, ok := a.tokens[tok]
	if !ok || a.now.Sub(issued) >= time.Duration(a.expiresIn)*time.Second ||
		(a.tokenCalls > 0 && a.used[tok] >= a.tokenCalls) {
		a.rejected++
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token"})
		return
	}
	a.used[tok]++
	a.lastToken = tok
	if code, ok := strings.CutPrefix(r.URL.Path, "/api/v1/dossiers/"); ok {
		for _, it := range a.items {
			if it["code"] == code {
				writeJSON(w, http.StatusOK, it)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
		return
	}
	q := r.URL.Query()
	a.queries = append(a.queries, r.URL.RawQuery)
	if a.page != nil {
		if body, ok := a.page(r.URL.RawQuery); ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
			return
		}
	}
	writeJSON(w, http.StatusOK, a.keyset(q.Get("updated_after"), q.Get("after_code"), q.Get("limit")))
}

func (a *api) keyset(after, afterCode, limit string) map[string]any {
	var from time.Time
	if after != "" {
		var err error
		if from, err = time.Parse(time.RFC3339Nano, after); err != nil {
			a.t.Errorf("updated_after %q: %v", after, err)
		}
	}
	n, _ := strconv.Atoi(limit)
	type keyed struct {
		at   time.Time
		code string
		item map[string]any
	}
	var all []keyed
	for _, it := range a.items {
		at, _ := time.Parse(time.RFC3339Nano, it["updated_at"].(string))
		all = append(all, keyed{at, it["code"].(string), it})
	}
	slices.SortFunc(all, func(x, y keyed) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return strings.Compare(x.code, y.code)
	})
	var page []keyed
	for _, k := range all {
		if k.at.After(from) || k.at.Equal(from) && k.code > afterCode {
			page = append(page, k)
		}
	}
	var next any
	if len(page) > n {
		page = page[:n]
		last := page[n-1]
		next = map[string]any{"updated_after": last.at.Format(time.RFC3339Nano), "after_code": last.code}
	}
	items := []map[string]any{}
	for _, k := range page {
		items = append(items, k.item)
	}
	if a.mess && len(items) > 0 {
		slices.Reverse(items)
		stale := httpxtest.With(items[0], "updated_at", "2026-01-01T00:00:00+07:00", "status", 2)
		items = append(items, stale)
	}
	return map[string]any{"items": items, "next": next}
}

func (a *api) stats() (logins, rejected, requests int, queries []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logins, a.rejected, a.requests, slices.Clone(a.queries)
}

func item(code string, at time.Time) map[string]any {
	return httpxtest.With(fullItem(), "code", code, "updated_at", at.Format(time.RFC3339Nano))
}

type testBundle struct {
	api    *api
	client *onestop.Client
	*httpxtest.Doubles
}

func setup(t *testing.T, a *api, edit func(*config.Connector)) *testBundle {
	t.Helper()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	b := &testBundle{api: a, Doubles: &httpxtest.Doubles{}}
	cfg := config.Connector{
		Name: "mot-cua", Kind: config.KindOneStop, BaseURL: srv.URL, Username: user,
		Password: config.NewSecret(password), Timeout: 300 * time.Millisecond, RateLimit: 5, Burst: 1,
		PageSize: 2, Window: 24 * time.Hour, MaxRetries: 3,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := onestop.New(cfg, b.Options(a.clock)...)
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

func cursor(c connectors.Cursor) string {
	if c.UpdatedAt.IsZero() {
		return "start/" + c.Key
	}
	return c.UpdatedAt.Format("15:04:05.999") + "/" + c.Key
}

func (b *testBundle) pull(ctx context.Context, after connectors.Cursor) ([]got, error) {
	var out []got
	err := b.client.Pull(ctx, after, func(_ context.Context, batch connectors.Batch) error {
		g := got{Next: cursor(batch.Next)}
		for _, d := range batch.Dossiers {
			g.Codes = append(g.Codes, fmt.Sprintf("%s/%d", d.Key.Code, d.Status))
		}
		for _, s := range batch.Skipped {
			g.Skipped = append(g.Skipped, s.Code+": "+s.Reason)
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

func TestPullFollowsKeysetPages(t *testing.T) {
	t.Parallel()
	at := t0.Add(-time.Hour) // 09:00
	items := []map[string]any{
		item("B", at), item("A", at), item("C", at.Add(time.Minute)),
		item("D", at.Add(2*time.Minute)), httpxtest.With(item("E", at.Add(3*time.Minute)), "status", 9),
	}
	tests := []struct {
		name    string
		after   connectors.Cursor
		mess    bool
		want    []got
		queries []string
	}{
		{
			name: "from the start",
			want: []got{
				{Next: "09:00:00/B", Codes: []string{"A/5", "B/5"}},
				{Next: "09:02:00/D", Codes: []string{"C/5", "D/5"}},
				{Next: "09:03:00/E", Codes: []string{"E/9"}},
			},
			queries: []string{
				"limit=2",
				"after_code=B&limit=2&updated_after=2026-11-03T09%3A00%3A00%2B07%3A00",
				"after_code=D&limit=2&updated_after=2026-11-03T09%3A02%3A00%2B07%3A00",
			},
		},
		{
			name:  "from a cursor inside an instant",
			after: connectors.Cursor{UpdatedAt: at, Key: "A"},
			want: []got{
				{Next: "09:01:00/C", Codes: []string{"B/5", "C/5"}},
				{Next: "09:03:00/E", Codes: []string{"D/5", "E/9"}}, // next null: the largest key seen
			},
			queries: []string{
				"after_code=A&limit=2&updated_after=2026-11-03T09%3A00%3A00%2B07%3A00",
				"after_code=C&limit=2&updated_after=2026-11-03T09%3A01%3A00%2B07%3A00",
			},
		},
		{
			name: "shuffled pages with stale copies",
			mess: true,
			want: []got{
				{Next: "09:00:00/B", Codes: []string{"A/5", "B/5"}},
				{Next: "09:02:00/D", Codes: []string{"C/5", "D/5"}},
				{Next: "09:03:00/E", Codes: []string{"E/9"}},
			},
			queries: []string{
				"limit=2",
				"after_code=B&limit=2&updated_after=2026-11-03T09%3A00%3A00%2B07%3A00",
				"after_code=D&limit=2&updated_after=2026-11-03T09%3A02%3A00%2B07%3A00",
			},
		},
		{
			name:    "nothing new",
			after:   connectors.Cursor{UpdatedAt: at.Add(time.Hour)},
			queries: []string{"limit=2&updated_after=2026-11-03T10%3A00%3A00%2B07%3A00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, items...)
			a.mess = tt.mess
			b := setup(t, a, nil)
			batches, err := b.pull(t.Context(), tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(batches) != fmt.Sprint(tt.want) {
				t.Errorf("batches\n got %v\nwant %v", batches, tt.want)
			}
			if _, _, _, q := a.stats(); fmt.Sprint(q) != fmt.Sprint(tt.queries) {
				t.Errorf("queries\n got %q\nwant %q", q, tt.queries)
			}
		})
	}
}

func TestPullCursorRules(t *testing.T) {
	t.Parallel()
	after := connectors.Cursor{UpdatedAt: t0, Key: "M"}
	tests := []struct {
		name    string
		pages   map[string]string
		want    []got
		wantErr string
	}{
		{
			name: "last page: the largest key seen, skipped items included",
			pages: map[string]string{"*": `{"items":[
				{"code":"Q","status":4,"updated_at":"2026-11-03T10:05:00+07:00"},
				{"code":"P","status":4,"updated_at":"2026-11-03T10:07:00+07:00"},
				{"code":"R","status":42,"updated_at":"2026-11-03T10:09:00+07:00"},
				{"code":"S","status":4,"updated_at":"bad"}],"next":null}`},
			want: []got{{Next: "10:09:00/R", Codes: []string{"Q/4", "P/4"},
				Skipped: []string{"R: status 42: not a status 1–10", `S: updated_at "bad": not RFC 3339`}}},
		},
		{
			name: "last page of stale items keeps the cursor",
			pages: map[string]string{"*": `{"items":[
				{"code":"A","status":4,"updated_at":"2026-11-03T09:00:00+07:00"}],"next":null}`},
			want: []got{{Next: "10:00:00/M", Codes: []string{"A/4"}}},
		},
		{
			name: "a next behind the cursor is not followed back",
			pages: map[string]string{"*": `{"items":[],
				"next":{"updated_after":"2026-11-03T09:00:00+07:00","after_code":"A"}}`},
			wantErr: `onestop "mot-cua": list dossiers after (2026-11-03T10:00:00+07:00, "M"): the reply's next cursor does not move forward; following it would loop`,
		},
		{
			name: "next is followed as given",
			pages: map[string]string{
				"after_code=M&limit=2&updated_after=2026-11-03T10%3A00%3A00%2B07%3A00": `{"items":[
					{"code":"N","status":4,"updated_at":"2026-11-03T10:00:00+07:00"}],
					"next":{"updated_after":"2026-11-03T10:30:00.25+07:00","after_code":"Z"}}`,
				"after_code=Z&limit=2&updated_after=2026-11-03T10%3A30%3A00.25%2B07%3A00": `{"items":[],"next":null}`,
			},
			want: []got{{Next: "10:30:00.25/Z", Codes: []string{"N/4"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t)
			a.page = func(q string) (string, bool) {
				if p, ok := tt.pages[q]; ok {
					return p, true
				}
				p, ok := tt.pages["*"]
				if !ok {
					t.Errorf("unexpected query %q", q)
				}
				return p, ok
			}
			b := setup(t, a, nil)
			batches, err := b.pull(t.Context(), after)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, connectors.ErrPermanent) {
					t.Fatalf("err = %v\nwant permanent %s", err, tt.wantErr)
				}
			}
			if fmt.Sprint(batches) != fmt.Sprint(tt.want) {
				t.Errorf("batches\n got %v\nwant %v", batches, tt.want)
			}
		})
	}
}

func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		tokenCalls   int
		advance      time.Duration // between two pulls
		wantLogins   int
		wantRejected int
	}{
		{name: "token reused", wantLogins: 1},
		{name: "rejected token renewed once per call", tokenCalls: 1, wantLogins: 2, wantRejected: 1},
		{name: "renewed shortly before expiry, never rejected", advance: 1750 * time.Second, wantLogins: 2},
		{name: "still valid well before expiry", advance: 1700 * time.Second, wantLogins: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, item("A", t0.Add(-time.Hour)))
			a.tokenCalls = tt.tokenCalls
			b := setup(t, a, func(c *config.Connector) { c.MaxRetries = 0 })
			if _, err := b.pull(t.Context(), connectors.Cursor{}); err != nil {
				t.Fatal(err)
			}
			a.advance(tt.advance)
			if _, err := b.pull(t.Context(), connectors.Cursor{}); err != nil {
				t.Fatal(err)
			}
			logins, rejected, _, _ := a.stats()
			if logins != tt.wantLogins || rejected != tt.wantRejected {
				t.Errorf("logins = %d, rejected = %d; want %d and %d", logins, rejected, tt.wantLogins, tt.wantRejected)
			}
			if s := b.Sleeps.All(); len(s) != 0 {
				t.Errorf("slept %v: a renewal is not a retry", s)
			}
		})
	}
}

func TestBadCredentialsArePermanent(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	b := setup(t, a, func(c *config.Connector) { c.Password = config.NewSecret("wrong") })
	_, err := b.pull(t.Context(), connectors.Cursor{})
	want := `onestop "mot-cua": token: bad credentials for user "dvcwatch": HTTP 401 Unauthorized: {"error":"invalid_grant"}`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, connectors.ErrPermanent) {
		t.Error("err is not permanent")
	}
	if _, _, requests, _ := a.stats(); requests != 1 {
		t.Errorf("requests = %d, want 1", requests)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	status, raw := httpxtest.Status, httpxtest.Body
	ms := time.Millisecond
	tests := []struct {
		name    string
		faults  []http.HandlerFunc
		waits   []time.Duration
		wantErr string
		perm    bool
	}{
		{name: "5xx then success", faults: []http.HandlerFunc{status(503), status(500)}, waits: []time.Duration{ms, 2 * ms}},
		{name: "429 with Retry-After", faults: []http.HandlerFunc{status(429, "Retry-After", "12")}, waits: []time.Duration{12 * time.Second}},
		{name: "malformed JSON", faults: []http.HandlerFunc{raw(`{"items":[`)}, waits: []time.Duration{ms}},
		{name: "bad next cursor", faults: []http.HandlerFunc{raw(`{"items":[],"next":{"updated_after":"yesterday"}}`)}, waits: []time.Duration{ms}},
		{name: "timeout", faults: []http.HandlerFunc{httpxtest.Hang}, waits: []time.Duration{ms}},
		{name: "busy in a 200 with Retry-After", faults: []http.HandlerFunc{busy(200, onestop.ErrorUnavailable, "4")},
			waits: []time.Duration{4 * time.Second}},
		{name: "busy in a 400", faults: []http.HandlerFunc{busy(400, onestop.ErrorUnavailable, "")}, waits: []time.Duration{ms}},
		{name: "rate limited in a 200", faults: []http.HandlerFunc{busy(200, onestop.ErrorRateLimited, "1")},
			waits: []time.Duration{time.Second}},
		{name: "busy exhausted", faults: []http.HandlerFunc{busy(503, onestop.ErrorUnavailable, ""),
			busy(200, onestop.ErrorUnavailable, ""), busy(200, onestop.ErrorUnavailable, ""), busy(200, onestop.ErrorUnavailable, "")},
			waits:   []time.Duration{ms, 2 * ms, 4 * ms},
			wantErr: `onestop "mot-cua": list dossiers after (start, ""): gave up after 4 attempts: HTTP 200 with error "temporarily_unavailable": "Hệ thống đang bảo trì"`},
		{name: "another error in a 200 is permanent", faults: []http.HandlerFunc{raw(`{"error":"invalid_request","items":[]}`)}, perm: true,
			wantErr: `onestop "mot-cua": list dossiers after (start, ""): HTTP 200 with error "invalid_request"`},
		{name: "400 is permanent", faults: []http.HandlerFunc{status(400)}, perm: true,
			wantErr: `onestop "mot-cua": list dossiers after (start, ""): HTTP 400 Bad Request: status 400`},
		{name: "retries exhausted", faults: []http.HandlerFunc{status(502), status(502), status(502), status(502)},
			waits:   []time.Duration{ms, 2 * ms, 4 * ms},
			wantErr: `onestop "mot-cua": list dossiers after (start, ""): gave up after 4 attempts: HTTP 502 Bad Gateway: status 502`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, item("A", t0.Add(-time.Hour)))
			a.faults = tt.faults
			b := setup(t, a, nil)
			batches, err := b.pull(t.Context(), connectors.Cursor{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
				}
			} else if err != nil || len(batches) != 1 {
				t.Fatalf("batches = %v, err = %v", batches, err)
			}
			if got := errors.Is(err, connectors.ErrPermanent); got != tt.perm {
				t.Errorf("permanent = %v, want %v", got, tt.perm)
			}
			if got := b.Sleeps.All(); fmt.Sprint(got) != fmt.Sprint(tt.waits) {
				t.Errorf("waits = %v, want %v", got, tt.waits)
			}
			_, _, requests, _ := a.stats()
			if n := b.Limiter.Waits(); n != requests {
				t.Errorf("limiter waits = %d, requests = %d: every request waits", n, requests)
			}
		})
	}
}

// A byte-order mark before every reply's JSON is ignored, without retries.
func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	a := newAPI(t, item("A", t0.Add(-time.Hour)))
	a.bom = true
	b := setup(t, a, nil)
	batches, err := b.pull(t.Context(), connectors.Cursor{})
	if err != nil || len(batches) != 1 || len(batches[0].Codes) != 1 {
		t.Fatalf("batches = %v, err = %v", batches, err)
	}
	if d, found, err := b.client.Lookup(t.Context(), "A"); err != nil || !found || d.Key.Code != "A" {
		t.Errorf("Lookup(A) = %v, %v, %v", d.Key, found, err)
	}
	if s := b.Sleeps.All(); len(s) != 0 {
		t.Errorf("retried after %v", s)
	}
}

// A busy token endpoint is retried; its 401 is still bad credentials.
func TestBusyLogin(t *testing.T) {
	t.Parallel()
	a := newAPI(t, item("A", t0.Add(-time.Hour)))
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/auth/token" && calls.Add(1) == 1 {
			busy(http.StatusUnauthorized, onestop.ErrorUnavailable, "3")(w, r)
			return
		}
		a.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b := setup(t, a, func(c *config.Connector) { c.BaseURL = srv.URL })
	if _, found, err := b.client.Lookup(t.Context(), "A"); err != nil || !found {
		t.Fatalf("Lookup(A) = %v, %v", found, err)
	}
	if got := b.Sleeps.All(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{3 * time.Second}) {
		t.Errorf("waits = %v, want the Retry-After", got)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	a := newAPI(t, item("A", t0), httpxtest.With(item("BAD", t0), "received_at", "hôm qua"))
	b := setup(t, a, nil)
	d, found, err := b.client.Lookup(t.Context(), "A")
	if err != nil || !found || d.Key != (struct{ Source, Code string }{"mot-cua", "A"}) {
		t.Errorf("Lookup(A) = %v, %v, %v", d.Key, found, err)
	}
	_, found, err = b.client.Lookup(t.Context(), "missing")
	if err != nil || found {
		t.Errorf("Lookup(missing) = %v, %v; want not found", found, err)
	}
	_, _, err = b.client.Lookup(t.Context(), "BAD")
	want := `onestop "mot-cua": lookup dossier "BAD": unusable item: received_at "hôm qua": not RFC 3339`
	if err == nil || err.Error() != want || !errors.Is(err, connectors.ErrPermanent) {
		t.Errorf("Lookup(BAD) err = %v\nwant permanent %s", err, want)
	}
}

func TestPullReturnsPromptlyWhenCancelled(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.faults = []http.HandlerFunc{httpxtest.Hang}
	b := setup(t, a, func(c *config.Connector) { c.Timeout = time.Hour })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	started := time.Now()
	_, err := b.pull(ctx, connectors.Cursor{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(started); took > 2*time.Second {
		t.Errorf("Pull returned %s after the cancel", took)
	}
}

func TestLogsCarryNoSecretsOrPersonalData(t *testing.T) {
	t.Parallel()
	a := newAPI(t, item("A", t0.Add(-time.Hour)), item("B", t0.Add(-time.Minute)), httpxtest.With(item("C", t0), "status", 0))
	a.tokenCalls = 1
	a.faults = []http.HandlerFunc{httpxtest.Status(500)}
	b := setup(t, a, nil)
	if _, err := b.pull(t.Context(), connectors.Cursor{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.client.Lookup(t.Context(), "A"); err != nil {
		t.Fatal(err)
	}
	logs := b.Logs.String()
	if !strings.Contains(logs, "retrying") || !strings.Contains(logs, "logging in again") {
		t.Fatalf("expected retry and renewal logs, got:\n%s", logs)
	}
	ap := fullItem()["applicant"].(map[string]any)
	for _, secret := range []string{password, "TOKEN-", "Bearer", ap["name"].(string), ap["email"].(string),
		ap["phone"].(string), ap["id_number"].(string)} {
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
		{config.Connector{Name: "x", Kind: config.KindDVCQG}, `onestop "x": kind is "dvcqg", want "onestop"`},
		{config.Connector{Name: "x", Kind: config.KindOneStop}, `onestop "x": page_size: must be at least 1, found 0`},
		{config.Connector{Name: "x", Kind: config.KindOneStop, PageSize: 10, RateLimit: 1, Burst: 1},
			`onestop "x": base_url: required; timeout: must be positive, found 0s`},
	}
	for _, tt := range tests {
		if _, err := onestop.New(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("New err = %v\nwant %s", err, tt.want)
		}
	}
}
