package portalsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Each fault kind happens at its rate, is counted in /sim/stats, and leaves
// the ground truth alone.
func TestFaultRates(t *testing.T) {
	t.Parallel()
	const rate = 0.3
	cases := []struct {
		kind     string
		faults   Faults
		requests int
	}{
		{faultError, Faults{ErrorRate: rate}, 200},
		{faultThrottle, Faults{ThrottleRate: rate, RetryAfter: 7}, 200},
		{faultBusy, Faults{BusyRate: rate, RetryAfter: 7}, 200},
		{faultBOM, Faults{BOMRate: rate}, 200},
		{faultTimeout, Faults{TimeoutRate: rate}, 100},
		{faultMalformed, Faults{MalformedRate: rate}, 200},
		{faultTruncated, Faults{TruncatedRate: rate}, 200},
		{faultSessionExpiry, Faults{SessionExpiryRate: rate}, 200},
		{faultDuplicate, Faults{DuplicateRate: rate}, 200},
		{faultOutOfOrder, Faults{OutOfOrder: rate}, 200},
		{faultBadRecord, Faults{BadRecordRate: rate}, 200},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Options{Seed: 61, Hang: time.Minute, Faults: &Faults{}})
			before := [2]map[string]string{b.state(t, OneStop), b.state(t, DVCQG)}
			b.setFaults(t, c.faults)

			// A page from the middle of the keyset, so a duplicate may come from the page before.
			v := b.sim.view()
			mid := v.os[100]
			cur := osCursor{
				UpdatedAfter: time.Unix(b.sim.g.abs(uint32(mid>>32)), 0).In(testStart.Location()).Format(time.RFC3339),
				AfterCode:    b.sim.g.code(uint64(uint32(mid))),
			}
			hc := &http.Client{Timeout: 10 * time.Second}
			if c.kind == faultTimeout {
				hc.Timeout = 100 * time.Millisecond
			}
			token := ""
			seen := 0
			login := func() {
				for token == "" {
					resp, err := hc.Post(b.srv.URL+"/api/v1/auth/token", "application/json",
						jsonBody(map[string]string{"username": DefaultUsername, "password": DefaultPassword}))
					if err != nil {
						continue
					}
					data, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if d, ok := bytes.CutPrefix(data, []byte("\uFEFF")); ok {
						seen++ // logins meet byte-order marks too
						data = d
					}
					var tok struct {
						AccessToken string `json:"access_token"`
					}
					_ = json.Unmarshal(data, &tok)
					token = tok.AccessToken
				}
			}
			for n := 0; n < c.requests; n++ {
				login()
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/dossiers?limit=10&updated_after=%s&after_code=%s",
					b.srv.URL, url.QueryEscape(cur.UpdatedAfter), url.QueryEscape(cur.AfterCode)), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				if kind := classify(t, hc, req, cur); kind != "" {
					if kind != c.kind {
						t.Fatalf("request %d: met %s, only %s is switched on", n, kind, c.kind)
					}
					seen++
					if kind == faultSessionExpiry {
						token = ""
					}
				}
			}
			share := float64(seen) / float64(c.requests)
			t.Logf("%s: %d of %d requests (%.2f)", c.kind, seen, c.requests, share)
			if share < rate-0.12 || share > rate+0.12 {
				t.Errorf("%s: %.2f of requests, want about %.2f", c.kind, share, rate)
			}
			var st Stats
			getJSON(t, b, "/sim/stats", &st)
			if st.Faults[c.kind] != int64(seen) {
				t.Errorf("stats count %d %s faults, the client met %d", st.Faults[c.kind], c.kind, seen)
			}
			sameState(t, "one-stop state under faults", b.state(t, OneStop), before[0])
			sameState(t, "DVCQG state under faults", b.state(t, DVCQG), before[1])
			if c.kind == faultTimeout {
				// Held requests end when their clients give up: closing the server
				// does not wait for the hang (a minute here).
				start := time.Now()
				b.srv.Close()
				if d := time.Since(start); d > 30*time.Second {
					t.Errorf("closing the server waited %s for held requests", d)
				}
			}
		})
	}
}

func jsonBody(v any) io.Reader {
	r, w := io.Pipe()
	go func() { w.CloseWithError(json.NewEncoder(w).Encode(v)) }()
	return r
}

// classify sends a one-stop page request and names the fault it met, if any.
func classify(t *testing.T, hc *http.Client, req *http.Request, cur osCursor) string {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return faultTimeout
		}
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	switch resp.StatusCode {
	case 500, 502, 503:
		return faultError
	case http.StatusTooManyRequests:
		if resp.Header.Get("Retry-After") != "7" {
			t.Errorf("429 with Retry-After %q, want 7", resp.Header.Get("Retry-After"))
		}
		return faultThrottle
	case http.StatusUnauthorized:
		return faultSessionExpiry
	case http.StatusOK:
	default:
		t.Fatalf("%s: %s", resp.Status, data)
	}
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		return faultBOM
	}
	if busy(data) {
		if resp.Header.Get("Retry-After") != "7" {
			t.Errorf("busy with Retry-After %q, want 7", resp.Header.Get("Retry-After"))
		}
		return faultBusy
	}
	if !json.Valid(data) {
		// A malformed body is an HTML page or JSON with a broken separator; a
		// truncated one is a prefix of JSON.
		if bytes.HasPrefix(data, []byte("<")) || bytes.Contains(data, []byte(`"=`)) {
			return faultMalformed
		}
		return faultTruncated
	}
	var page osPageReply
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	prev := cur
	sorted := true
	for _, raw := range page.Items {
		var k osKey
		_ = json.Unmarshal(raw, &k)
		if _, err := time.Parse(time.RFC3339, k.UpdatedAt); k.Code == "" || err != nil {
			return faultBadRecord
		}
		key := osCursor{k.UpdatedAt, k.Code}
		if codes[k.Code] || !keyLess(cur, key) {
			return faultDuplicate
		}
		codes[k.Code] = true
		if !keyLess(prev, key) {
			sorted = false
		}
		prev = key
	}
	if !sorted {
		return faultOutOfOrder
	}
	if len(page.Items) != 10 || page.Next == nil || *page.Next != prev {
		t.Fatalf("a clean page: %d items, next %v, last %v", len(page.Items), page.Next, prev)
	}
	return ""
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// With every fault switched on, a client that retries, logs in again, skips
// bad records and de-duplicates ends up with exactly the ground truth of both
// portals, before and after the time advances.
func TestCorrectClientUnderFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 71, Dossiers: 800, MaxWindowRecords: 80, Hang: time.Minute})
	b.setFaults(t, Faults{
		ErrorRate: 0.07, ThrottleRate: 0.07, BusyRate: 0.07, TimeoutRate: 0.03, MalformedRate: 0.07, TruncatedRate: 0.07,
		SessionExpiryRate: 0.07, DuplicateRate: 0.3, OutOfOrder: 0.5, BadRecordRate: 0.3, BOMRate: 0.2, SlowMS: 1,
		DVCQGMissingRate: 0.05, DVCQGMismatchRate: 0.05, DVCQGLagRate: 0.2,
	})
	c := b.client(t, 300*time.Millisecond)
	osStore, dvStore := map[string]string{}, map[string]string{}
	var osPos osCursor
	dvFrom := testStart.AddDate(0, 0, -100)
	for round, minutes := range []int{0, 20, 6 * 60, 2 * 24 * 60} {
		if minutes > 0 {
			b.advance(t, minutes)
		}
		if round == 2 {
			b.setFaults(t, func() Faults { f := b.sim.Faults(); f.ExpireSessions = true; return f }())
		}
		c.syncOneStop(&osPos, osStore, 25)
		c.syncDVCQG(&dvFrom, dvStore, 7*24*time.Hour)
		sameState(t, fmt.Sprintf("one-stop, round %d", round), osStore, b.state(t, OneStop))
		sameState(t, fmt.Sprintf("DVCQG, round %d", round), dvStore, b.state(t, DVCQG))
	}
	var st Stats
	getJSON(t, b, "/sim/stats", &st)
	t.Logf("client met %v after %d retries; stats: requests %v, faults %v", c.met, c.retries, st.Requests, st.Faults)
	for _, k := range faultKinds {
		if st.Faults[k] == 0 {
			t.Errorf("no %s fault was injected", k)
		}
	}
}

func TestSlowRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 81, Faults: &Faults{SlowMS: 60}})
	start := time.Now()
	resp, _ := b.do(t, "GET", "/api/v1/dossiers", nil)
	if d := time.Since(start); d < 60*time.Millisecond || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("slow_ms 60: answered %s in %s", resp.Status, d)
	}
	start = time.Now()
	b.do(t, "GET", "/sim/stats", nil)
	if d := time.Since(start); d >= 60*time.Millisecond {
		t.Errorf("slow_ms delayed a control request by %s", d)
	}
}
