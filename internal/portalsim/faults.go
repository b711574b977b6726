package portalsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the failures the simulator injects. Rates are shares in [0, 1].
//
// The transport faults (timeout, error, throttle, busy, session expiry,
// malformed, truncated) exclude one another: each API request draws once, so
// each happens at its own rate, and together at most at their sum, which must
// not pass 1. The page faults (duplicate, out of order, bad record) are drawn
// independently for every list reply, and a byte-order mark for every reply.
// DVCQGWholeDays is a mode of the national portal's list service, not a draw. Draws are keyed by the seed and the request's sequence
// number, so a run with the same requests in the same order meets the same
// faults. The DVCQG rates are not per request: they choose, per dossier, which
// national copies are missing, stuck at an older state or lagging, and so they
// are part of the DVCQG ground truth; changing them rebuilds it.
type Faults struct {
	ErrorRate         float64 `json:"error_rate"`          // answered 500, 502 or 503
	ThrottleRate      float64 `json:"throttle_rate"`       // answered 429 with Retry-After
	BusyRate          float64 `json:"busy_rate"`           // answered 200 with a "busy" code in the body, and Retry-After
	RetryAfter        int     `json:"retry_after"`         // seconds, in Retry-After (0: retry at once)
	SlowMS            int     `json:"slow_ms"`             // latency added to every API request
	TimeoutRate       float64 `json:"timeout_rate"`        // held until the client gives up
	MalformedRate     float64 `json:"malformed_rate"`      // a body that is not JSON
	TruncatedRate     float64 `json:"truncated_rate"`      // JSON cut mid-way
	ExpireSessions    bool    `json:"expire_sessions"`     // an action: invalidates every session and token now
	SessionExpiryRate float64 `json:"session_expiry_rate"` // the request's session expires under it
	DuplicateRate     float64 `json:"duplicate_rate"`      // a record repeated in the page, or from the previous one
	OutOfOrder        Rate    `json:"out_of_order"`        // items of a page shuffled; true means always
	BadRecordRate     float64 `json:"bad_record_rate"`     // an extra record with no code or an unparseable date
	BOMRate           float64 `json:"bom_rate"`            // a UTF-8 byte-order mark before the JSON body
	DVCQGWholeDays    bool    `json:"dvcqg_whole_days"`    // DanhSachHoSo lists whole days, both ends' included
	DVCQGMissingRate  float64 `json:"dvcqg_missing_rate"`  // dossiers never synced to DVCQG
	DVCQGMismatchRate float64 `json:"dvcqg_mismatch_rate"` // dossiers whose later updates never reach DVCQG
	DVCQGLagRate      float64 `json:"dvcqg_lag_rate"`      // dossiers that reach DVCQG minutes late (others: seconds)
}

// Rate is a share in [0, 1]; in JSON it may also be written true (1) or false (0).
type Rate float64

// UnmarshalJSON reads a number or a boolean.
func (r *Rate) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*r = 0
		if v {
			*r = 1
		}
	case float64:
		*r = Rate(v)
	default:
		return fmt.Errorf("want a number from 0 to 1 or a boolean, got %s", b)
	}
	return nil
}

// DefaultFaults returns no request faults and a realistic national copy: 3% of
// dossiers missing on DVCQG, 2% stuck at an older state, 5% lagging by minutes.
func DefaultFaults() Faults {
	return Faults{RetryAfter: 1, DVCQGMissingRate: 0.03, DVCQGMismatchRate: 0.02, DVCQGLagRate: 0.05}
}

// Validate checks every rate is a share and the transport rates sum to at most 1.
func (f Faults) Validate() error {
	rates := []struct {
		name string
		v    float64
	}{
		{"error_rate", f.ErrorRate}, {"throttle_rate", f.ThrottleRate}, {"busy_rate", f.BusyRate}, {"timeout_rate", f.TimeoutRate},
		{"malformed_rate", f.MalformedRate}, {"truncated_rate", f.TruncatedRate},
		{"session_expiry_rate", f.SessionExpiryRate}, {"duplicate_rate", f.DuplicateRate},
		{"out_of_order", float64(f.OutOfOrder)}, {"bad_record_rate", f.BadRecordRate}, {"bom_rate", f.BOMRate},
		{"dvcqg_missing_rate", f.DVCQGMissingRate}, {"dvcqg_mismatch_rate", f.DVCQGMismatchRate},
		{"dvcqg_lag_rate", f.DVCQGLagRate},
	}
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) {
			return fmt.Errorf("%s: %v: want a share from 0 to 1", r.name, r.v)
		}
	}
	if sum := f.TimeoutRate + f.ErrorRate + f.ThrottleRate + f.BusyRate + f.SessionExpiryRate + f.MalformedRate + f.TruncatedRate; sum > 1+1e-9 {
		return fmt.Errorf("timeout, error, throttle, busy, session expiry, malformed and truncated rates sum to %.3g: want at most 1", sum)
	}
	switch {
	case f.RetryAfter < 0:
		return fmt.Errorf("retry_after: %d: want seconds, 0 or more", f.RetryAfter)
	case f.SlowMS < 0:
		return fmt.Errorf("slow_ms: %d: want milliseconds, 0 or more", f.SlowMS)
	}
	return nil
}

func (f Faults) dvRates() dvRates {
	return dvRates{missing: f.DVCQGMissingRate, mismatch: f.DVCQGMismatchRate, lag: f.DVCQGLagRate}
}

// Faults returns the current fault settings.
func (s *Sim) Faults() Faults {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.faults
}

func (s *Sim) currentDVRates() dvRates { return s.Faults().dvRates() }

// SetFaults replaces the fault settings. ExpireSessions, if set, invalidates
// every session and token now and is not kept. New DVCQG rates rebuild the
// national portal's state at the current simulated time.
func (s *Sim) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.ExpireSessions {
		s.ExpireSessions()
		f.ExpireSessions = false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultsMu.Lock()
	old := s.faults
	s.faults = f
	s.faultsMu.Unlock()
	if old.dvRates() != f.dvRates() {
		s.moveTo(s.v.now, true)
	}
	return nil
}

// fault kinds, as counted in Stats.
const (
	faultTimeout       = "timeout"
	faultError         = "error"
	faultThrottle      = "throttle"
	faultBusy          = "busy"
	faultSessionExpiry = "session_expiry"
	faultMalformed     = "malformed"
	faultTruncated     = "truncated"
	faultDuplicate     = "duplicate"
	faultOutOfOrder    = "out_of_order"
	faultBadRecord     = "bad_record"
	faultBOM           = "bom"
	faultExpireAll     = "expire_sessions"
)

var faultKinds = [...]string{faultTimeout, faultError, faultThrottle, faultBusy, faultSessionExpiry, faultMalformed,
	faultTruncated, faultDuplicate, faultOutOfOrder, faultBadRecord, faultBOM, faultExpireAll}

// API endpoints, as counted in Stats.
const (
	reqDVCQGAuth    = "dvcqg_auth"
	reqDVCQGService = "dvcqg_service"
	reqOneStopToken = "onestop_token"
	reqOneStopList  = "onestop_list"
	reqOneStopGet   = "onestop_get"
)

var requestKinds = []string{reqDVCQGAuth, reqDVCQGService, reqOneStopToken, reqOneStopList, reqOneStopGet}

type counters struct {
	requests [5]atomic.Int64
	faults   [len(faultKinds)]atomic.Int64
}

func (c *counters) request(kind string) {
	for i, k := range requestKinds {
		if k == kind {
			c.requests[i].Add(1)
		}
	}
}

func (c *counters) fault(kind string) {
	for i, k := range faultKinds {
		if k == kind {
			c.faults[i].Add(1)
		}
	}
}

// transportFault draws the transport fault of API request n, "" for none.
func (s *Sim) transportFault(f Faults, n uint64) string {
	u := unit(s.g.seed, streamTransport, n)
	for _, c := range []struct {
		kind string
		rate float64
	}{
		{faultTimeout, f.TimeoutRate}, {faultError, f.ErrorRate}, {faultThrottle, f.ThrottleRate}, {faultBusy, f.BusyRate},
		{faultSessionExpiry, f.SessionExpiryRate}, {faultMalformed, f.MalformedRate}, {faultTruncated, f.TruncatedRate},
	} {
		if u < c.rate {
			return c.kind
		}
		u -= c.rate
	}
	return ""
}

// session is a DVCQG session or a one-stop bearer token.
type session struct {
	portal  Portal
	expires time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

var errNoSession = errors.New("unknown or expired session")

func (ss *sessions) create(p Portal, now time.Time, ttl time.Duration) string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	tok := hex.EncodeToString(b[:])
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, v := range ss.m {
		if !now.Before(v.expires) {
			delete(ss.m, k)
		}
	}
	ss.m[tok] = session{portal: p, expires: now.Add(ttl)}
	return tok
}

// check validates a token; expire invalidates it (a session-expiry fault).
func (ss *sessions) check(p Portal, tok string, now time.Time, expire bool) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v, ok := ss.m[tok]
	if !ok || v.portal != p {
		return errNoSession
	}
	if expire || !now.Before(v.expires) {
		delete(ss.m, tok)
		return errNoSession
	}
	return nil
}

func (ss *sessions) clear() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	clear(ss.m)
}

func (ss *sessions) active(now time.Time) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	n := 0
	for _, v := range ss.m {
		if now.Before(v.expires) {
			n++
		}
	}
	return n
}

// ExpireSessions invalidates every DVCQG session and one-stop token now.
func (s *Sim) ExpireSessions() {
	s.sessions.clear()
	s.counts.fault(faultExpireAll)
}

// Stats are the simulator's counters: dossiers by status at the simulated time,
// API requests served by endpoint, and injected faults by kind.
type Stats struct {
	SimTime       time.Time        `json:"sim_time"`
	Start         time.Time        `json:"start"`
	Seed          int64            `json:"seed"`
	Dossiers      int              `json:"dossiers"`       // on the one-stop system
	DVCQGDossiers int              `json:"dvcqg_dossiers"` // on DVCQG
	ByStatus      map[string]int   `json:"by_status"`
	DVCQGByStatus map[string]int   `json:"dvcqg_by_status"`
	Requests      map[string]int64 `json:"requests"`
	Faults        map[string]int64 `json:"faults"`
	Sessions      int              `json:"sessions"`         // active sessions and tokens
	Census        *Census          `json:"census,omitempty"` // with ?census=1
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	st := Stats{Start: s.opts.Start, Seed: s.opts.Seed, ByStatus: map[string]int{}, DVCQGByStatus: map[string]int{},
		Requests: map[string]int64{}, Faults: map[string]int64{}}
	var os, dv [11]int
	s.mu.RLock()
	v := s.v
	for _, x := range s.stOS[:v.n] {
		os[x]++
	}
	for _, x := range s.stDV[:v.n] {
		dv[x]++
	}
	s.mu.RUnlock()
	st.SimTime = time.Unix(v.now, 0).In(s.opts.Start.Location())
	st.Dossiers, st.DVCQGDossiers = len(v.os), len(v.dv)
	for k := 1; k < len(os); k++ {
		if os[k] > 0 {
			st.ByStatus[fmt.Sprint(k)] = os[k]
		}
		if dv[k] > 0 {
			st.DVCQGByStatus[fmt.Sprint(k)] = dv[k]
		}
	}
	var total int64
	for i, k := range requestKinds {
		n := s.counts.requests[i].Load()
		st.Requests[k] = n
		total += n
	}
	st.Requests["total"] = total
	for i, k := range faultKinds {
		st.Faults[k] = s.counts.faults[i].Load()
	}
	st.Sessions = s.sessions.active(s.opts.Clock.Now())
	return st
}
