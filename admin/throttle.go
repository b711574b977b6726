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
	clients map[netip.Prefix]*throttled
	log     *slog.Logger
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
		clients: map[netip.Prefix]*throttled{}, log: log}
}

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

// wait returns how long the client of r must wait before trying again; 0
// when it may try now.
func (t *throttle) wait(r *http.Request, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[clientKey(r)]
	if c == nil {
		return 0
	}
	if tokens := c.lim.TokensAt(now); tokens < 1 {
		return time.Duration((1 - tokens) / float64(t.every) * float64(time.Second))
	}
	c.blocked = false
	return 0
}

// fail counts a failed try by the client of r.
func (t *throttle) fail(r *http.Request, now time.Time, what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := clientKey(r)
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
		t.log.Warn("admin: too many failed logins or tokens; the client is throttled", "client", k.String(),
			"last", what, "failures", t.burst, "window", t.window.String())
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

// refuse answers 429 with Retry-After when the client of r is throttled,
// and says whether it did.
func (t *throttle) refuse(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	d := t.wait(r, now)
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
	return "too many failed logins or tokens from this address; try again in " + strconv.FormatInt(int64(e), 10) + " s"
}
