package admin

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed logins and bearer tokens are throttled per client address: each
// address may fail Failures times at once, and earns one more try every
// Window/Failures; an address out of tries is answered 429 with
// Retry-After before its credentials are even looked at, so that guessing
// is not sped up by a right guess answering differently. A success costs
// nothing. IPv6 clients are counted per /64, which one host usually holds.
// The address is the connection's: behind a reverse proxy every client
// shares the proxy's.
//
// A login or a bearer token is the secret alone, and names no token; the
// session cookie names its token, and one whose signature does not match
// is a guess at that token's key, counted per token name as well, whatever
// the address: a burst from many addresses is throttled too. Only the
// guesses are refused then (429 instead of 401), the token's good
// sessions go on, so that no one can lock an administrator out by naming
// them.
//
// Each key (an address, a token name) is logged once per burst: when it
// runs out of tries, not at every try.
const (
	defaultLoginFailures = 10
	defaultLoginWindow   = 5 * time.Minute
	// throttleEntries bounds the addresses remembered; those with every try
	// back are forgotten first.
	throttleEntries = 10000
)

type throttle struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	window  time.Duration
	clients map[throttleKey]*throttled
	log     *slog.Logger
}

// throttleKey is what failures are counted by: a client address (its
// prefix), or a token name.
type throttleKey struct {
	client netip.Prefix
	token  string
}

func (k throttleKey) log() []any {
	if k.token != "" {
		return []any{"token", k.token}
	}
	return []any{"client", k.client.String()}
}

type throttled struct {
	lim *rate.Limiter
	// blocked: the address ran out of tries and it was logged; reset when
	// a try is allowed again, so a burst is logged once.
	blocked bool
}

func newThrottle(failures int, window time.Duration, log *slog.Logger) *throttle {
	if failures <= 0 {
		failures = defaultLoginFailures
	}
	if window <= 0 {
		window = defaultLoginWindow
	}
	return &throttle{every: rate.Every(window / time.Duration(failures)), burst: failures, window: window,
		clients: map[throttleKey]*throttled{}, log: log}
}

// client is the key of the address r came from.
func client(r *http.Request) throttleKey { return throttleKey{client: clientKey(r)} }

// tokenName is the key of a token's name.
func tokenName(name string) throttleKey { return throttleKey{token: name} }

// clientKey is the address r came from, an IPv6 one as its /64.
func clientKey(r *http.Request) netip.Prefix {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.WithZone("").Prefix(64)
	return p
}

// wait returns how long a request counted under keys must wait before
// trying again, the longest of theirs; 0 when it may try now.
func (t *throttle) wait(now time.Time, keys ...throttleKey) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		c := t.clients[k]
		if c == nil {
			continue
		}
		if tokens := c.lim.TokensAt(now); tokens < 1 {
			longest = max(longest, time.Duration((1-tokens)/float64(t.every)*float64(time.Second)))
			continue
		}
		c.blocked = false
	}
	return longest
}

// fail counts a failed try under each key, and logs a key that runs out
// of tries, once per burst.
func (t *throttle) fail(now time.Time, what string, keys ...throttleKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		c := t.clients[k]
		if c == nil {
			if len(t.clients) >= throttleEntries {
				t.prune(now)
			}
			c = &throttled{lim: rate.NewLimiter(t.every, t.burst)}
			t.clients[k] = c
		}
		c.lim.AllowN(now, 1)
		if c.lim.TokensAt(now) < 1 && !c.blocked {
			c.blocked = true
			who := map[bool]string{true: "the token name", false: "the client"}[k.token != ""]
			t.log.Warn("admin: too many failed logins or tokens; "+who+" is throttled", append(k.log(),
				"last", what, "failures", t.burst, "window", t.window.String())...)
		}
	}
}

// prune forgets the clients with every try back, then, if still too many,
// any but the blocked ones.
func (t *throttle) prune(now time.Time) {
	for k, c := range t.clients {
		if c.lim.TokensAt(now) >= float64(t.burst) {
			delete(t.clients, k)
		}
	}
	for k, c := range t.clients {
		if len(t.clients) < throttleEntries {
			break
		}
		if c.lim.TokensAt(now) >= 1 {
			delete(t.clients, k)
		}
	}
}

// refuse answers 429 with Retry-After when a request counted under keys
// is throttled, and says whether it did.
func (t *throttle) refuse(w http.ResponseWriter, now time.Time, keys ...throttleKey) bool {
	d := t.wait(now, keys...)
	if d <= 0 {
		return false
	}
	secs := int64(math.Ceil(d.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeError(w, http.StatusTooManyRequests, errTooManyFailures(secs))
	return true
}

type errTooManyFailures int64

func (e errTooManyFailures) Error() string {
	return "too many failed logins or tokens from this address or for this token; try again in " + strconv.FormatInt(int64(e), 10) + " s"
}
