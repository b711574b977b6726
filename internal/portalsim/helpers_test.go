package portalsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	wallclock "github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/sla"
)

// testStart is a Tuesday morning, so advancing a few hours moves dossiers.
var testStart = time.Date(2026, 11, 24, 9, 0, 0, 0, sla.Location())

// wallClock is the injected wall clock that sessions expire by.
type wallClock struct{ ns atomic.Int64 }

func (c *wallClock) Now() time.Time             { return time.Unix(0, c.ns.Load()) }
func (c *wallClock) Advance(d time.Duration)    { c.ns.Add(int64(d)) }
func newWallClock(t time.Time) *wallClock       { c := &wallClock{}; c.ns.Store(t.UnixNano()); return c }
func (c *wallClock) set(t time.Time) *wallClock { c.ns.Store(t.UnixNano()); return c }

type testBundle struct {
	sim  *Sim
	srv  *httptest.Server
	wall *wallClock
	hc   *http.Client
}

// setup starts a simulator on a real HTTP server; opts.Dossiers defaults to a
// few hundred so tests stay quick under -race.
func setup(t *testing.T, opts Options) *testBundle {
	t.Helper()
	if opts.Dossiers == 0 {
		opts.Dossiers = 400
	}
	if opts.Start.IsZero() {
		opts.Start = testStart
	}
	if opts.Hang == 0 {
		opts.Hang = 5 * time.Second
	}
	wall := newWallClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opts.Clock = wallclock.Func(wall.Now)
	s := New(opts)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	return &testBundle{sim: s, srv: srv, wall: wall, hc: &http.Client{Timeout: 10 * time.Second}}
}

func (b *testBundle) do(t *testing.T, method, path string, body any, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// state fetches /sim/state as code → record line.
func (b *testBundle) state(t *testing.T, p Portal) map[string]string {
	t.Helper()
	resp, data := b.do(t, "GET", "/sim/state?portal="+string(p), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("state: %s: %s", resp.Status, data)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	var prev string
	for sc.Scan() {
		var r struct {
			Code   string `json:"code"`
			MaHoSo string `json:"MaHoSo"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("state line %q: %v", sc.Text(), err)
		}
		code := r.Code + r.MaHoSo
		if code <= prev {
			t.Fatalf("state not sorted by code: %q after %q", code, prev)
		}
		prev = code
		out[code] = sc.Text()
	}
	return out
}

func (b *testBundle) setFaults(t *testing.T, f Faults) {
	t.Helper()
	if resp, data := b.do(t, "POST", "/sim/faults", f); resp.StatusCode != http.StatusOK {
		t.Fatalf("set faults: %s: %s", resp.Status, data)
	}
}

func (b *testBundle) advance(t *testing.T, minutes int) AdvanceResult {
	t.Helper()
	resp, data := b.do(t, "POST", fmt.Sprintf("/sim/advance?minutes=%d", minutes), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: %s: %s", resp.Status, data)
	}
	var r AdvanceResult
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// client is a minimal correct client of both protocols: it retries whatever
// fails, logs in again when its session dies, skips bad records, de-duplicates
// on the code and follows the keyset or narrows the window as told.
type client struct {
	t       *testing.T
	base    string
	hc      *http.Client
	session string // DVCQG
	token   string // one-stop
	retries int
	met     map[string]int // what went wrong, by kind
}

func (b *testBundle) client(t *testing.T, timeout time.Duration) *client {
	return &client{t: t, base: b.srv.URL, hc: &http.Client{Timeout: timeout}, met: map[string]int{}}
}

var errRetry = errors.New("retry")

func (c *client) send(method, path string, body any, header ...string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.met["transport"]++
		return nil, nil, errRetry
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.met["transport"]++
		return nil, nil, errRetry
	}
	if d, ok := bytes.CutPrefix(data, []byte("\uFEFF")); ok {
		c.met["bom"]++ // RFC 8259 §8.1: a parser may ignore it
		data = d
	}
	switch {
	case resp.StatusCode == http.StatusOK && busy(data):
		if resp.Header.Get("Retry-After") == "" {
			c.t.Errorf("busy without Retry-After")
		}
		c.met["busy"]++
		return nil, nil, errRetry
	case resp.StatusCode == http.StatusTooManyRequests:
		if resp.Header.Get("Retry-After") == "" {
			c.t.Errorf("429 without Retry-After")
		}
		c.met["throttle"]++
		return nil, nil, errRetry
	case resp.StatusCode >= 500:
		c.met["error"]++
		return nil, nil, errRetry
	case resp.StatusCode == http.StatusOK && !json.Valid(data):
		c.met["invalid_json"]++
		return nil, nil, errRetry
	}
	return resp, data, nil
}

// busy reports whether a reply's body says the portal is busy.
func busy(data []byte) bool {
	for _, b := range []string{`"error_code":"503"`, `"error_code":"429"`, `"error":"temporarily_unavailable"`} {
		if bytes.Contains(data, []byte(b)) {
			return true
		}
	}
	return false
}

// retry runs fn until it stops asking for a retry.
func (c *client) retry(fn func() error) {
	for n := 0; ; n++ {
		err := fn()
		if err == nil {
			return
		}
		if !errors.Is(err, errRetry) {
			c.t.Fatal(err)
		}
		c.retries++
		if n > 500 {
			c.t.Fatalf("still failing after %d retries: %v", n, c.met)
		}
	}
}

func getJSON(t *testing.T, b *testBundle, path string, v any) {
	t.Helper()
	resp, data := b.do(t, "GET", path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// --- one-stop ---

func (c *client) osLogin() error {
	resp, data, err := c.send("POST", "/api/v1/auth/token", map[string]string{"username": DefaultUsername, "password": DefaultPassword})
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &tok) != nil || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 {
		return fmt.Errorf("token: %s %s", resp.Status, data)
	}
	c.token = tok.AccessToken
	return nil
}

type osPageReply struct {
	Items []json.RawMessage `json:"items"`
	Next  *osCursor         `json:"next"`
}

// osPage fetches one page after the cursor.
func (c *client) osPage(cur osCursor, limit int) (osPageReply, error) {
	if c.token == "" {
		if err := c.osLogin(); err != nil {
			return osPageReply{}, err
		}
	}
	path := fmt.Sprintf("/api/v1/dossiers?limit=%d", limit)
	if cur.UpdatedAfter != "" {
		path += "&updated_after=" + urlEscape(cur.UpdatedAfter) + "&after_code=" + urlEscape(cur.AfterCode)
	}
	resp, data, err := c.send("GET", path, nil, "Authorization", "Bearer "+c.token)
	if err != nil {
		return osPageReply{}, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		c.met["unauthorized"]++
		c.token = ""
		return osPageReply{}, errRetry
	}
	var page osPageReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &page) != nil {
		return osPageReply{}, fmt.Errorf("page: %s %s", resp.Status, data)
	}
	return page, nil
}

func urlEscape(s string) string { return strings.NewReplacer("+", "%2B", ":", "%3A").Replace(s) }

type osKey struct {
	Code      string `json:"code"`
	UpdatedAt string `json:"updated_at"`
}

// syncOneStop pulls every change after *cur into store and moves *cur on.
func (c *client) syncOneStop(cur *osCursor, store map[string]string, limit int) (pages int) {
	for {
		var page osPageReply
		c.retry(func() (err error) { page, err = c.osPage(*cur, limit); return err })
		pages++
		last := *cur
		for _, raw := range page.Items {
			var k osKey
			if err := json.Unmarshal(raw, &k); err != nil {
				c.t.Fatalf("item: %v", err)
			}
			u, err := time.Parse(time.RFC3339, k.UpdatedAt)
			if k.Code == "" || err != nil {
				c.met["bad_record"]++
				continue
			}
			if old, ok := store[k.Code]; ok {
				var ok osKey
				_ = json.Unmarshal([]byte(old), &ok)
				if prev, _ := time.Parse(time.RFC3339, ok.UpdatedAt); u.Before(prev) {
					continue // an older copy
				}
			}
			store[k.Code] = string(raw)
			if last.UpdatedAfter == "" || keyLess(osCursor{last.UpdatedAfter, last.AfterCode}, osCursor{k.UpdatedAt, k.Code}) {
				last = osCursor{k.UpdatedAt, k.Code}
			}
		}
		if page.Next == nil {
			*cur = last
			return pages
		}
		*cur = *page.Next
	}
}

func keyLess(a, b osCursor) bool {
	ta, _ := time.Parse(time.RFC3339, a.UpdatedAfter)
	tb, _ := time.Parse(time.RFC3339, b.UpdatedAfter)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.AfterCode < b.AfterCode
}

// --- DVCQG ---

type dvReplyIn struct {
	ErrorCode json.RawMessage `json:"error_code"`
	Message   string          `json:"message"`
	Session   string          `json:"session"`
	Result    json.RawMessage `json:"result"`
}

// code returns error_code as a string, noting which form it came in.
func (r dvReplyIn) code(met map[string]int) string {
	var n json.Number
	if err := json.Unmarshal(r.ErrorCode, &n); err == nil && !strings.HasPrefix(string(r.ErrorCode), `"`) {
		met["error_code_number"]++
		return n.String()
	}
	var s string
	_ = json.Unmarshal(r.ErrorCode, &s)
	met["error_code_string"]++
	return s
}

func ok(code string) bool { return code == "0" || code == "00" }

func (c *client) dvLogin() error {
	_, data, err := c.send("POST", "/api/auth", map[string]string{"username": DefaultUsername, "password": DefaultPassword}, "dstcode", DefaultAgencyCode)
	if err != nil {
		return err
	}
	var r dvReplyIn
	if json.Unmarshal(data, &r) != nil || !ok(r.code(c.met)) || r.Session == "" {
		return fmt.Errorf("login: %s", data)
	}
	c.session = r.Session
	return nil
}

// dvCall calls a service; it returns the reply's code and result, and the
// portal's clock from the Date header.
func (c *client) dvCall(service string, args map[string]string) (code string, result json.RawMessage, now time.Time, err error) {
	if c.session == "" {
		if err := c.dvLogin(); err != nil {
			return "", nil, now, err
		}
	}
	body := map[string]string{"session": c.session, "madonvi": DefaultAgencyCode, "service": service}
	for k, v := range args {
		body[k] = v
	}
	resp, data, err := c.send("POST", "/api/service", body)
	if err != nil {
		return "", nil, now, err
	}
	now, err = http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		c.t.Fatalf("Date header %q: %v", resp.Header.Get("Date"), err)
	}
	var r dvReplyIn
	if err := json.Unmarshal(data, &r); err != nil {
		return "", nil, now, fmt.Errorf("service reply: %s", data)
	}
	code = r.code(c.met)
	if code == "401" {
		c.met["unauthorized"]++
		c.session = ""
		return "", nil, now, errRetry
	}
	return code, r.Result, now, nil
}

type dvKey struct {
	MaHoSo      string
	NgayCapNhat string
}

// syncDVCQG pulls every record updated from *from up to the portal's clock,
// in windows it halves on 413, and moves *from on.
func (c *client) syncDVCQG(from *time.Time, store map[string]string, window time.Duration) (tooMany int) {
	loc := sla.Location()
	var now time.Time
	c.retry(func() (err error) {
		_, _, now, err = c.dvCall("TraCuuHoSo", map[string]string{"mahoso": "none"})
		return err
	})
	end := now.Add(time.Second) // windows are [a, b): include records updated at now
	for a := *from; a.Before(end); {
		b := a.Add(window)
		if b.After(end) {
			b = end
		}
		var code string
		var result json.RawMessage
		c.retry(func() (err error) {
			code, result, _, err = c.dvCall("DanhSachHoSo", map[string]string{
				"ngayNhan1": a.In(loc).Format(dvLayout), "ngayNhan2": b.In(loc).Format(dvLayout)})
			return err
		})
		switch {
		case code == "413":
			tooMany++
			window /= 2
			if window < time.Second {
				c.t.Fatalf("413 on a one-second window at %s", a)
			}
			continue
		case !ok(code):
			c.t.Fatalf("DanhSachHoSo %s..%s: error_code %s", a, b, code)
		}
		var recs []json.RawMessage
		if err := json.Unmarshal(result, &recs); err != nil {
			c.t.Fatalf("result: %v", err)
		}
		for _, raw := range recs {
			var k dvKey
			if err := json.Unmarshal(raw, &k); err != nil {
				c.t.Fatal(err)
			}
			u, err := time.ParseInLocation(dvLayout, k.NgayCapNhat, loc)
			if k.MaHoSo == "" || err != nil {
				c.met["bad_record"]++
				continue
			}
			if old, ok := store[k.MaHoSo]; ok {
				var ok dvKey
				_ = json.Unmarshal([]byte(old), &ok)
				if prev, _ := time.ParseInLocation(dvLayout, ok.NgayCapNhat, loc); u.Before(prev) {
					continue
				}
			}
			store[k.MaHoSo] = string(raw)
		}
		a = b
		window *= 2
	}
	*from = end
	return tooMany
}

// sameState compares a client's store with the ground truth.
func sameState(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: client has %d dossiers, state has %d", what, len(got), len(want))
	}
	bad := 0
	for code, w := range want {
		if g, ok := got[code]; !ok {
			t.Errorf("%s: %s missing from the client", what, code)
			bad++
		} else if g != w {
			t.Errorf("%s: %s differs:\nclient %s\nstate  %s", what, code, g, w)
			bad++
		}
		if bad > 5 {
			t.Fatalf("%s: more differences follow", what)
		}
	}
}
