package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"

	wallclock "github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/connectors/httpx/httpxtest"
)

// reply is one scripted answer of the test portal.
type reply = http.HandlerFunc

var (
	status    = httpxtest.Status
	body      = httpxtest.Body
	hang      = reply(httpxtest.Hang)
	drop      = reply(httpxtest.Drop)
	truncated = httpxtest.Cut(`{"ok":tr`)
)

func writeJSON(w http.ResponseWriter, s string) { httpxtest.Body(s)(w, nil) }

// script answers the n-th request with replies[n], repeating the last one.
type script struct {
	mu      sync.Mutex
	replies []reply
	n       int
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep := s.replies[min(s.n, len(s.replies)-1)]
	s.n++
	s.mu.Unlock()
	rep(w, r)
}

func (s *script) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

var clock = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

type testBundle struct {
	client *httpx.Client
	url    string
	script *script
	*httpxtest.Doubles
}

func setup(t *testing.T, retries int, replies []reply, opts ...httpx.Option) *testBundle {
	t.Helper()
	b := &testBundle{script: &script{replies: replies}, Doubles: &httpxtest.Doubles{}}
	srv := httptest.NewServer(b.script)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	cfg := config.Connector{
		Name: "test", Kind: config.KindOneStop, BaseURL: srv.URL,
		Timeout: 200 * time.Millisecond, RateLimit: 1, Burst: 1, MaxRetries: retries,
	}
	c, err := httpx.New(cfg, append(b.Options(func() time.Time { return clock }), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	b.client = c
	return b
}

// call is a GET whose reply must be {"ok":true}.
func (b *testBundle) call(ctx context.Context) error {
	return b.client.Do(ctx, httpx.Call{
		Name: "ping", Method: http.MethodGet, URL: b.url + "/ping",
		Handle: func(r httpx.Reply) error {
			switch {
			case r.Status/100 != 2:
				return r.Unexpected()
			case string(r.Body) == `{"busy":true}`:
				return httpx.Busy(errors.New("portal busy"), false)
			case string(r.Body) == `{"busy":"rate"}`:
				return httpx.Busy(errors.New("portal asks for fewer requests"), true)
			case string(r.Body) != `{"ok":true}`:
				return httpx.Retry(fmt.Errorf("malformed reply %q", r.Body))
			}
			return nil
		},
	})
}

const ok = `{"ok":true}`

// busy answers 200 with a body saying the portal is busy, and a Retry-After
// when retryAfter is not "".
func busy(body, retryAfter string) reply {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, body)
	}
}

func TestDoRetries(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name     string
		retries  int
		replies  []reply
		wantErr  string // "" for success
		perm     bool
		limited  bool
		waits    []time.Duration
		requests int
	}{
		{name: "success", retries: 3, replies: []reply{body(ok)}, requests: 1},
		{name: "5xx then success", retries: 3, replies: []reply{status(500), status(502), body(ok)},
			waits: []time.Duration{ms, 2 * ms}, requests: 3},
		{name: "408 then success", retries: 3, replies: []reply{status(408), body(ok)}, waits: []time.Duration{ms}, requests: 2},
		{name: "429 Retry-After seconds", retries: 3, replies: []reply{status(429, "Retry-After", "7"), body(ok)},
			waits: []time.Duration{7 * time.Second}, requests: 2},
		{name: "503 Retry-After date", retries: 3,
			replies: []reply{status(503, "Retry-After", clock.Add(9*time.Second).Format(http.TimeFormat)), body(ok)},
			waits:   []time.Duration{9 * time.Second}, requests: 2},
		{name: "Retry-After shorter than backoff", retries: 5,
			replies: []reply{status(500), status(500), status(500), status(429, "Retry-After", "0"), body(ok)},
			waits:   []time.Duration{ms, 2 * ms, 4 * ms, 8 * ms}, requests: 5},
		{name: "backoff capped", retries: 6, replies: []reply{status(500), status(500), status(500), status(500), status(500), body(ok)},
			waits: []time.Duration{ms, 2 * ms, 4 * ms, 8 * ms, 8 * ms}, requests: 6},
		{name: "timeout then success", retries: 3, replies: []reply{hang, body(ok)}, waits: []time.Duration{ms}, requests: 2},
		{name: "dropped connection then success", retries: 3, replies: []reply{drop, body(ok)}, waits: []time.Duration{ms}, requests: 2},
		{name: "truncated body then success", retries: 3, replies: []reply{truncated, body(ok)}, waits: []time.Duration{ms}, requests: 2},
		{name: "malformed body then success", retries: 3, replies: []reply{body(`{"ok":`), body(ok)}, waits: []time.Duration{ms}, requests: 2},
		{name: "permanent 400 not retried", retries: 3, replies: []reply{status(400), body(ok)},
			wantErr: `onestop "test": ping: HTTP 400 Bad Request: status 400`, perm: true, requests: 1},
		{name: "retries exhausted", retries: 2, replies: []reply{status(500)},
			wantErr: `onestop "test": ping: gave up after 3 attempts: HTTP 500 Internal Server Error: status 500`,
			waits:   []time.Duration{ms, 2 * ms}, requests: 3},
		{name: "no retries configured", retries: 0, replies: []reply{status(500), body(ok)},
			wantErr: `onestop "test": ping: gave up after 1 attempts: HTTP 500 Internal Server Error: status 500`, requests: 1},
		{name: "429 exhausted is rate limited", retries: 1, replies: []reply{status(429, "Retry-After", "3")},
			wantErr: `gave up after 2 attempts: HTTP 429 Too Many Requests`, limited: true,
			waits: []time.Duration{3 * time.Second}, requests: 2},
		{name: "byte-order mark ignored", retries: 0, replies: []reply{body("\uFEFF" + ok)}, requests: 1},
		{name: "busy in the body with Retry-After", retries: 3, replies: []reply{busy(`{"busy":true}`, "5"), body(ok)},
			waits: []time.Duration{5 * time.Second}, requests: 2},
		{name: "busy in the body without Retry-After backs off", retries: 3,
			replies: []reply{busy(`{"busy":true}`, ""), busy(`{"busy":true}`, ""), body(ok)},
			waits:   []time.Duration{ms, 2 * ms}, requests: 3},
		{name: "busy exhausted is not permanent", retries: 1, replies: []reply{busy(`{"busy":true}`, "1")},
			wantErr: `onestop "test": ping: gave up after 2 attempts: portal busy`,
			waits:   []time.Duration{time.Second}, requests: 2},
		{name: "rate limited in the body", retries: 1, replies: []reply{busy(`{"busy":"rate"}`, "2")},
			wantErr: `gave up after 2 attempts: portal asks for fewer requests`, limited: true,
			waits: []time.Duration{2 * time.Second}, requests: 2},
		{name: "Retry-After beyond the maximum", retries: 3, replies: []reply{status(429, "Retry-After", "3600"), body(ok)},
			wantErr: `portal asks to wait 1h0m0s, more than 2m0s`, limited: true, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.retries, tt.replies)
			err := b.call(t.Context())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, connectors.ErrPermanent); got != tt.perm {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v", got, tt.perm)
			}
			if got := errors.Is(err, connectors.ErrRateLimited); got != tt.limited {
				t.Errorf("errors.Is(err, ErrRateLimited) = %v, want %v", got, tt.limited)
			}
			if got := b.Sleeps.All(); fmt.Sprint(got) != fmt.Sprint(tt.waits) {
				t.Errorf("waits = %v, want %v", got, tt.waits)
			}
			if got := b.script.requests(); got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
			if got := b.Limiter.Waits(); got != tt.requests {
				t.Errorf("rate limiter waits = %d, want one per request (%d)", got, tt.requests)
			}
		})
	}
}

func TestRetryAfterOnError(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, []reply{status(429, "Retry-After", "42")})
	err := b.call(t.Context())
	if got := connectors.RetryAfter(err); got != 42*time.Second {
		t.Errorf("RetryAfter(%v) = %s, want 42s", err, got)
	}
	if got := connectors.RetryAfter(errors.New("other")); got != 0 {
		t.Errorf("RetryAfter(other) = %s, want 0", got)
	}
}

func TestFullJitterStaysUnderTheCeiling(t *testing.T) {
	t.Parallel()
	s := &httpxtest.Sleeps{}
	srv := httptest.NewServer(&script{replies: []reply{status(500), status(500), status(500), status(500), body(ok)}})
	t.Cleanup(srv.Close)
	c, err := httpx.New(config.Connector{Name: "j", Kind: config.KindDVCQG, BaseURL: srv.URL, Timeout: time.Second,
		RateLimit: 1000, Burst: 10, MaxRetries: 4},
		httpx.WithSleep(s.Sleep), httpx.WithBackoff(10*time.Millisecond, 40*time.Millisecond),
		httpx.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(t.Context(), httpx.Call{Name: "x", Method: http.MethodGet, URL: srv.URL,
		Handle: func(r httpx.Reply) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range s.All() {
		ceiling := min(10*time.Millisecond<<i, 40*time.Millisecond)
		if d < 0 || d > ceiling {
			t.Errorf("wait %d = %s, want within [0, %s]", i, d, ceiling)
		}
	}
}

func TestSessionRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retries    int
		rejections int // replies 401 to the first n calls
		wantErr    bool
		wantLogins int
		wantSleeps int
	}{
		{name: "valid token", rejections: 0, wantLogins: 1},
		{name: "rejected once", rejections: 1, wantLogins: 2},
		{name: "rejected after a fresh login", rejections: 2, wantErr: true, wantLogins: 2},
		{name: "rejected twice, then retried", retries: 1, rejections: 2, wantLogins: 3, wantSleeps: 1},
		{name: "always rejected", retries: 2, rejections: 99, wantErr: true, wantLogins: 4, wantSleeps: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			b := setup(t, tt.retries, []reply{func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) <= int64(tt.rejections) {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				writeJSON(w, ok)
			}})
			logins := 0
			sess := b.client.NewSession(func(ctx context.Context) (string, time.Duration, error) {
				logins++
				return fmt.Sprintf("token-%d", logins), 0, nil
			})
			var sent []string
			err := b.client.Do(t.Context(), httpx.Call{
				Name: "ping", Method: http.MethodGet, URL: b.url, Session: sess,
				Prepare: func(r *resty.Request, token string) { sent = append(sent, token) },
				Handle: func(r httpx.Reply) error {
					if r.Status == http.StatusUnauthorized {
						return httpx.ErrRenew
					}
					return nil
				},
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && (errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "even after a fresh login")) {
				t.Errorf("err = %v, want a transient rejection", err)
			}
			if logins != tt.wantLogins {
				t.Errorf("logins = %d, want %d", logins, tt.wantLogins)
			}
			if len(sent) > 1 && sent[1] != "token-2" {
				t.Errorf("tokens sent = %v, want the renewed one on the repeat", sent)
			}
			if n := len(b.Sleeps.All()); n != tt.wantSleeps {
				t.Errorf("slept %d times, want %d: only rejections after a fresh login are retries", n, tt.wantSleeps)
			}
		})
	}
}

func TestSessionRenewsBeforeExpiry(t *testing.T) {
	t.Parallel()
	now := clock
	var mu sync.Mutex
	b := setup(t, 0, []reply{body(ok)}, httpx.WithClock(wallclock.Func(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })))
	logins := 0
	sess := b.client.NewSession(func(context.Context) (string, time.Duration, error) {
		logins++
		return fmt.Sprintf("t%d", logins), 30 * time.Minute, nil
	})
	get := func() string {
		tok, err := sess.Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	if tok := get(); tok != "t1" {
		t.Fatalf("first token %q", tok)
	}
	advance(28 * time.Minute)
	if tok := get(); tok != "t1" {
		t.Errorf("after 28 of 30 minutes got %q, want t1 still", tok)
	}
	advance(time.Minute + time.Second) // within the last minute
	if tok := get(); tok != "t2" {
		t.Errorf("within the last minute got %q, want a renewed t2", tok)
	}
	if renewed, _ := sess.Renew(t.Context(), "t1"); renewed != "t2" {
		t.Errorf("Renew of a token already replaced got %q, want t2 without a login", renewed)
	}
	if logins != 2 {
		t.Errorf("logins = %d, want 2", logins)
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, []reply{body(ok)})
	var logins atomic.Int64
	release := make(chan struct{})
	sess := b.client.NewSession(func(context.Context) (string, time.Duration, error) {
		logins.Add(1)
		<-release
		return "shared", 0, nil
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if tok, err := sess.Get(t.Context()); err != nil || tok != "shared" {
				t.Errorf("Get = %q, %v", tok, err)
			}
		})
	}
	time.Sleep(10 * time.Millisecond) // let them queue up behind the first login
	close(release)
	wg.Wait()
	if n := logins.Load(); n != 1 {
		t.Errorf("logins = %d, want 1", n)
	}
}

// blockingLimiter never grants a token; only ctx ends its wait.
type blockingLimiter struct{}

func (blockingLimiter) Wait(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestCancellationReturnsPromptly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		replies []reply
		opts    []httpx.Option
	}{
		{name: "during a request", replies: []reply{hang}},
		{name: "during the backoff", replies: []reply{status(500)},
			opts: []httpx.Option{httpx.WithSleep(nil), httpx.WithBackoff(time.Hour, time.Hour)}},
		{name: "waiting for the rate limit", replies: []reply{body(ok)},
			opts: []httpx.Option{httpx.WithLimiter(blockingLimiter{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 3, tt.replies, tt.opts...)
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(20*time.Millisecond, cancel)
			started := time.Now()
			err := b.call(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if errors.Is(err, connectors.ErrPermanent) {
				t.Errorf("a cancelled call is not a permanent failure: %v", err)
			}
			if took := time.Since(started); took > 2*time.Second {
				t.Errorf("returned after %s", took)
			}
		})
	}
}

func TestNewChecksSettings(t *testing.T) {
	t.Parallel()
	_, err := httpx.New(config.Connector{Name: "x", Kind: config.KindDVCQG, BaseURL: "http://p"})
	want := `dvcqg "x": timeout: must be positive, found 0s; rate_limit: must be more than 0, found 0; burst: must be at least 1, found 0`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestLogsCarryNoCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, []reply{status(500), func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer SECRET-TOKEN-2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, ok)
	}})
	n := 0
	sess := b.client.NewSession(func(context.Context) (string, time.Duration, error) {
		n++
		return fmt.Sprintf("SECRET-TOKEN-%d", n), 0, nil
	})
	err := b.client.Do(t.Context(), httpx.Call{
		Name: "ping", Method: http.MethodGet, URL: b.url, Session: sess,
		Prepare: func(r *resty.Request, token string) { r.SetHeader("Authorization", "Bearer "+token) },
		Handle: func(r httpx.Reply) error {
			if r.Status == http.StatusUnauthorized {
				return httpx.ErrRenew
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := b.Logs.String()
	if !strings.Contains(logs, "retrying") || !strings.Contains(logs, "logging in again") {
		t.Fatalf("expected retry and renewal logs, got:\n%s", logs)
	}
	if strings.Contains(logs, "SECRET-TOKEN") {
		t.Errorf("a token reached the log:\n%s", logs)
	}
}
