// Package httpx sends the portal connectors' requests: a client-side rate limit
// waited on before every request, a timeout per attempt, retries of transient
// failures with exponential backoff, full jitter and the portal's Retry-After,
// and a session or token renewed once when the portal rejects it. It knows
// HTTP, not a portal's protocol: each connector judges its own replies.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-resty/resty/v2"
	"golang.org/x/time/rate"

	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
)

// Default backoff: full jitter between 0 and base·2^retry, capped.
const (
	DefaultBackoffBase = 500 * time.Millisecond
	DefaultBackoffCap  = 30 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After a call waits out; a portal
	// asking for more gets the error back at once, with the wait on it, so the
	// job layer reschedules instead of holding a worker.
	DefaultMaxRetryAfter = 2 * time.Minute
)

// Limiter is the client-side rate limit; *rate.Limiter is one.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Option changes how a connector's client behaves; the defaults suit production.
type Option func(*settings)

type settings struct {
	logger        *slog.Logger
	limiter       Limiter
	base, cap     time.Duration
	maxRetryAfter time.Duration
	sleep         func(context.Context, time.Duration) error
	now           func() time.Time
	jitter        func(ceiling time.Duration) time.Duration
	httpClient    *http.Client
}

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithLimiter replaces the rate.Limiter built from the connector's rate_limit
// and burst, e.g. to count waits in a test.
func WithLimiter(l Limiter) Option { return func(s *settings) { s.limiter = l } }

// WithBackoff sets the base and the cap of the exponential backoff between
// retries (defaults DefaultBackoffBase and DefaultBackoffCap).
func WithBackoff(base, ceiling time.Duration) Option {
	return func(s *settings) { s.base, s.cap = base, ceiling }
}

// WithMaxRetryAfter sets the longest Retry-After waited out within a call.
func WithMaxRetryAfter(d time.Duration) Option { return func(s *settings) { s.maxRetryAfter = d } }

// WithSleep replaces the wait between retries; it must return ctx's error
// when ctx ends first. Tests pass one that records the waits; nil restores
// the timer.
func WithSleep(fn func(ctx context.Context, d time.Duration) error) Option {
	return func(s *settings) { s.sleep = fn }
}

// WithClock replaces the wall clock, used for Retry-After dates and token
// expiry.
func WithClock(c clock.Clock) Option { return func(s *settings) { s.now = c.Now } }

// WithJitter replaces the uniformly random choice of a wait between 0 and
// ceiling (nil restores it).
func WithJitter(fn func(ceiling time.Duration) time.Duration) Option {
	return func(s *settings) { s.jitter = fn }
}

// WithHTTPClient sets the HTTP client (its transport, TLS, proxy); its Timeout
// should stay 0, since each attempt gets the connector's timeout.
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.httpClient = hc } }

// Client sends one connector's requests.
type Client struct {
	name       string // `kind "name"`, the prefix of every error
	source     string
	http       *resty.Client
	timeout    time.Duration
	maxRetries int
	settings
}

// New builds the client of connector cfg, checking the settings it uses.
func New(cfg config.Connector, opts ...Option) (*Client, error) {
	c := &Client{
		name:       fmt.Sprintf("%s %q", cfg.Kind, cfg.Name),
		source:     cfg.Name,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		settings:   settings{base: DefaultBackoffBase, cap: DefaultBackoffCap, maxRetryAfter: DefaultMaxRetryAfter},
	}
	var problems []string
	check := func(bad bool, format string, args ...any) {
		if bad {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	check(cfg.Name == "", "name: required")
	check(cfg.BaseURL == "", "base_url: required")
	check(cfg.Timeout <= 0, "timeout: must be positive, found %s", cfg.Timeout)
	check(cfg.MaxRetries < 0, "max_retries: must not be negative, found %d", cfg.MaxRetries)
	for _, o := range opts {
		o(&c.settings)
	}
	if c.limiter == nil {
		check(cfg.RateLimit <= 0, "rate_limit: must be more than 0, found %v", cfg.RateLimit)
		check(cfg.Burst < 1, "burst: must be at least 1, found %d", cfg.Burst)
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.Burst)
	}
	check(c.base <= 0 || c.cap < c.base, "backoff: want 0 < base <= cap, found %s and %s", c.base, c.cap)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", c.name, strings.Join(problems, "; "))
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.sleep == nil {
		c.sleep = sleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.jitter == nil {
		c.jitter = fullJitter
	}
	hc := c.httpClient
	if hc == nil {
		// No cookie jar (resty.New adds one): credentials travel only where we put them.
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	// resty is used as a plain HTTP client: retries, rate limit and timeouts are
	// ours, its debug dump (which would print credentials) stays off.
	c.http = resty.NewWithClient(hc).
		SetLogger(restyLogger{c.logger}).
		SetDisableWarn(true).
		SetRetryCount(0)
	return c, nil
}

// Logger returns the client's logger, so a connector logs where its requests do.
func (c *Client) Logger() *slog.Logger { return c.logger }

// Now returns the client's clock's time.
func (c *Client) Now() time.Time { return c.now() }

// Permanent returns err for call as a permanent failure of this connector.
func (c *Client) Permanent(call string, err error) error {
	return &Error{Connector: c.name, Call: call, Err: err, Permanent: true}
}

// Call is one request and how to judge its reply.
type Call struct {
	Name   string // in errors and logs: what was being done, e.g. "TraCuuHoSo HS-1"
	Method string // http.MethodGet, http.MethodPost
	URL    string
	// Session, when set, supplies the token Prepare sends and is renewed once
	// when Handle reports ErrRenew.
	Session *Session
	// Prepare sets the body and headers; it runs for every attempt.
	Prepare func(r *resty.Request, token string)
	// Handle judges a reply whose status is not a transient failure (408, 429,
	// 5xx are retried before it sees them). It returns nil, an error made by
	// Retry or Busy, one wrapping ErrRenew, or any other error, which is
	// permanent. The body has no byte-order mark.
	Handle func(Reply) error
}

// ErrRenew is what Handle wraps when the portal rejects the session or token.
var ErrRenew = errors.New("credentials rejected")

type retryable struct {
	err     error
	wait    time.Duration // Retry-After
	limited bool          // a 429
	busy    bool          // said in the body: the reply's Retry-After still applies
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// Retry marks err as transient (a malformed or truncated reply, say): the call
// is tried again.
func Retry(err error) error { return &retryable{err: err} }

// Busy marks err as the portal saying in its reply's body that it is busy
// and should be asked again later: the call is retried as after HTTP 503, or
// as after HTTP 429 when rateLimited, waiting at least the reply's
// Retry-After. Some portals answer 200 and put the overload in the body.
func Busy(err error, rateLimited bool) error {
	return &retryable{err: err, limited: rateLimited, busy: true}
}

// Reply is an HTTP reply a Call's Handle judges.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Date returns the reply's Date header: the portal's clock.
func (r Reply) Date() (time.Time, bool) {
	t, err := http.ParseTime(r.Header.Get("Date"))
	return t, err == nil
}

// Unexpected describes a reply of a status the call does not expect, with the
// start of its body.
func (r Reply) Unexpected() error {
	return fmt.Errorf("HTTP %d %s%s", r.Status, http.StatusText(r.Status), snippet(r.Body))
}

// Error is a failed call of a connector. It wraps connectors.ErrPermanent when
// trying again will not help and connectors.ErrRateLimited when the portal kept
// answering 429.
type Error struct {
	Connector   string // kind "name"
	Call        string
	Err         error
	Permanent   bool
	RateLimited bool
	Wait        time.Duration // the portal's last Retry-After
}

func (e *Error) Error() string { return e.Connector + ": " + e.Call + ": " + e.Err.Error() }

// Unwrap returns the cause and the sentinels that apply.
func (e *Error) Unwrap() []error {
	errs := []error{e.Err}
	if e.Permanent {
		errs = append(errs, connectors.ErrPermanent)
	}
	if e.RateLimited {
		errs = append(errs, connectors.ErrRateLimited)
	}
	return errs
}

// RetryAfter returns the wait the portal asked for, read by connectors.RetryAfter.
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// Do sends call until Handle accepts a reply, a failure is permanent, the
// retries (cfg.MaxRetries) run out or ctx ends. Every attempt first waits for
// the rate limiter. When the portal rejects the session, Do logs in again and
// repeats the call without counting a retry; a rejection right after that
// login counts as a transient failure, and the next try logs in again.
func (c *Client) Do(ctx context.Context, call Call) error {
	var token string
	if call.Session != nil {
		t, err := call.Session.Get(ctx)
		if err != nil {
			return c.wrap(call.Name, err)
		}
		token = t
	}
	renewed := false
	for retry := 0; ; {
		if err := c.limiter.Wait(ctx); err != nil {
			return c.wrap(call.Name, fmt.Errorf("wait for the rate limit: %w", err))
		}
		err := c.attempt(ctx, call, token)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return c.wrap(call.Name, context.Cause(ctx))
		}
		var tr *retryable
		switch {
		case errors.Is(err, ErrRenew) && call.Session == nil:
			return c.Permanent(call.Name, err)
		case errors.Is(err, ErrRenew) && !renewed:
			// Sessions expire in normal operation: the first new login is free.
			c.logger.Info("portal rejected the session; logging in again", "connector", c.source, "call", call.Name)
			renewed = true
		case errors.Is(err, ErrRenew):
			// Rejected again right after a login: back off like any transient
			// failure, and log in again before the next try.
			if err := c.pause(ctx, call.Name, &retry, &retryable{err: fmt.Errorf("%w even after a fresh login", err)}); err != nil {
				return err
			}
		case errors.As(err, &tr):
			if err := c.pause(ctx, call.Name, &retry, tr); err != nil {
				return err
			}
			continue
		default:
			return c.Permanent(call.Name, err)
		}
		if token, err = call.Session.Renew(ctx, token); err != nil {
			return c.wrap(call.Name, err)
		}
	}
}

// pause waits before the next try of call after the transient failure tr, and
// counts it in retry; it returns the error to give up with when the retries
// are spent, the portal asks for too long a wait, or ctx ends.
func (c *Client) pause(ctx context.Context, call string, retry *int, tr *retryable) error {
	fail := &Error{Connector: c.name, Call: call, RateLimited: tr.limited, Wait: tr.wait}
	switch {
	case *retry >= c.maxRetries:
		fail.Err = fmt.Errorf("gave up after %d attempts: %w", *retry+1, tr)
		return fail
	case tr.wait > c.maxRetryAfter:
		fail.Err = fmt.Errorf("portal asks to wait %s, more than %s: %w", tr.wait, c.maxRetryAfter, tr)
		return fail
	}
	wait := max(c.backoff(*retry), tr.wait)
	*retry++
	c.logger.Warn("portal request failed; retrying", "connector", c.source, "call", call,
		"retry", *retry, "of", c.maxRetries, "wait", wait, "err", tr)
	if err := c.sleep(ctx, wait); err != nil {
		return c.wrap(call, err)
	}
	return nil
}

// attempt sends call once, within the connector's timeout, and judges the reply.
func (c *Client) attempt(ctx context.Context, call Call, token string) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r := c.http.R().SetContext(actx)
	if call.Prepare != nil {
		call.Prepare(r, token)
	}
	started := time.Now()
	resp, err := r.Execute(call.Method, call.URL)
	if err != nil {
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			return Retry(fmt.Errorf("no complete reply within %s", c.timeout))
		}
		return Retry(err) // connection refused, reset, a body cut short
	}
	// RFC 8259 §8.1 lets a parser ignore a byte-order mark before JSON, and
	// some portals send one; encoding/json would reject the body on every try.
	reply := Reply{Status: resp.StatusCode(), Header: resp.Header(), Body: bytes.TrimPrefix(resp.Body(), utf8BOM)}
	c.logger.Debug("portal reply", "connector", c.source, "call", call.Name,
		"status", reply.Status, "bytes", len(reply.Body), "took", time.Since(started))
	switch s := reply.Status; {
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		return &retryable{err: reply.Unexpected(), wait: c.retryAfter(reply.Header), limited: s == http.StatusTooManyRequests}
	case s == http.StatusRequestTimeout || s >= 500:
		return Retry(reply.Unexpected())
	}
	err = call.Handle(reply)
	var tr *retryable
	if errors.As(err, &tr) && tr.busy {
		tr.wait = c.retryAfter(reply.Header)
	}
	return err
}

var utf8BOM = []byte("\uFEFF")

// wrap gives err the connector and call prefix unless it has one already.
func (c *Client) wrap(call string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Connector: c.name, Call: call, Err: err}
}

// backoff is the wait before retry n+1: full jitter between 0 and base·2^n, capped.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.base
	for i := 0; i < n && ceiling < c.cap; i++ {
		ceiling *= 2
	}
	return c.jitter(min(ceiling, c.cap))
}

func fullJitter(ceiling time.Duration) time.Duration { return rand.N(ceiling + 1) }

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func (c *Client) retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(max(0, min(secs, 1<<32))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(c.now()))
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// snippet quotes the start of an error reply's body: enough to tell an HTML
// error page from a portal message, too little to carry a record.
func snippet(body []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	cut := len(s) > limit
	if cut {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if cut {
		s += "…"
	}
	return ": " + s
}

// restyLogger sends resty's own messages to slog at debug level.
type restyLogger struct{ l *slog.Logger }

func (r restyLogger) log(format string, v []any) { r.l.Debug("resty: " + fmt.Sprintf(format, v...)) }

func (r restyLogger) Errorf(format string, v ...any) { r.log(format, v) }
func (r restyLogger) Warnf(format string, v ...any)  { r.log(format, v) }
func (r restyLogger) Debugf(format string, v ...any) { r.log(format, v) }
