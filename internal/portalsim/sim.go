// Package portalsim simulates the two portals dvcwatch pulls dossiers from, over
// real HTTP: the national public-service portal (DVCQG: a session login and
// POST services that list dossiers by update-time window, without paging) and
// the provincial one-stop system (REST with bearer tokens and keyset paging).
//
// The population is seeded and deterministic and scales to millions of
// dossiers: each dossier's whole lifecycle is generated from (seed, index) when
// needed, and its record is that lifecycle cut at the simulated time. Only a few
// bytes per dossier stay resident: the instant its record next changes, its
// status on each portal, and per portal a sorted (update time, code) index,
// rebuilt incrementally when the simulated time advances.
//
// The population is a realistic province's: a few per cent of dossiers late
// (Options.LateShare), judged as the decided rules judge lateness (against
// the appointment on the receipt or a supplement round's new one, compared by
// date, at the end of processing); apologies mostly in time; supplement rounds
// that restart the limit, waits for payment (status 6), online submissions
// that wait for the desk. Text comes as portals send it: some names decomposed
// (NFD), some officials by display name, some steps without a department; the
// national portal's steps are progress updates.
//
// Faults (errors, throttling, "busy" codes in bodies, hangs, broken bodies,
// byte-order marks, expired sessions, duplicated, shuffled or bad records, a
// list service that reads whole days) are injected per request and never
// change the ground truth served by /sim/state: a correct client that retries
// ends up with exactly that state.
package portalsim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dvcwatch/dvcwatch"
	wallclock "github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Defaults of Options.
const (
	DefaultDossiers         = 5000
	DefaultHistoryDays      = 90
	DefaultAgencyCode       = "000.05.31.H99"
	DefaultAgencyName       = "UBND xã Hòa Bình"
	DefaultEmailDomain      = "hoabinh.example"
	DefaultUsername         = "dvcwatch"
	DefaultPassword         = "dvcwatch-sim"
	DefaultSessionTTL       = 30 * time.Minute
	DefaultMaxWindowRecords = 1000
	DefaultHang             = 10 * time.Minute
	// DefaultLateShare is the share of dossiers processed after their
	// appointment or left open past it: provinces publish on-time rates in the
	// high 90s per cent.
	DefaultLateShare = 0.03
)

// horizonYears is how far past Start the working-day table reaches; the
// simulated time may advance to two years before its end, leaving room for the
// longest lifecycles.
const horizonYears = 20

// maxLead bounds how long before its receipt an online dossier is submitted.
const maxLead = 5 * daySec

// Options configure a simulator. The zero value is usable: every field has a
// default.
type Options struct {
	Seed int64
	// Dossiers is how many dossiers arrive in the HistoryDays before Start (the
	// population at Start); they keep arriving at that rate afterwards.
	Dossiers    int
	HistoryDays int
	Start       time.Time // the initial simulated time; default: now, truncated to the minute

	AgencyCode  string // DonViXuLy, madonvi and the dstcode header
	AgencyName  string
	EmailDomain string // officials' e-mail addresses

	// LateShare is the share of dossiers processed on a later date than their
	// appointment, or left open past it (a quarter of them by weeks); 0 takes
	// DefaultLateShare, a negative value none.
	LateShare float64

	Username, Password string        // accepted by both portals
	SessionTTL         time.Duration // of sessions and tokens, in wall time
	MaxWindowRecords   int           // DVCQG answers 413 beyond this many records per window
	Hang               time.Duration // how long a timeout fault holds a request at most

	Faults   *Faults         // nil: DefaultFaults()
	Calendar *sla.Calendar   // nil: sla.LoadCalendar("")
	Clock    wallclock.Clock // the wall clock, for session expiry; nil: the system's
	Logger   *slog.Logger    // requests are logged at debug level; nil: discarded
}

func (o *Options) setDefaults() {
	if o.Dossiers == 0 {
		o.Dossiers = DefaultDossiers
	}
	if o.HistoryDays == 0 {
		o.HistoryDays = DefaultHistoryDays
	}
	if o.Start.IsZero() {
		o.Start = time.Now().Truncate(time.Minute)
	}
	o.Start = o.Start.In(sla.Location())
	if o.AgencyCode == "" {
		o.AgencyCode = DefaultAgencyCode
	}
	if o.AgencyName == "" {
		o.AgencyName = DefaultAgencyName
	}
	if o.EmailDomain == "" {
		o.EmailDomain = DefaultEmailDomain
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.MaxWindowRecords == 0 {
		o.MaxWindowRecords = DefaultMaxWindowRecords
	}
	if o.Hang == 0 {
		o.Hang = DefaultHang
	}
	switch {
	case o.LateShare == 0:
		o.LateShare = DefaultLateShare
	case o.LateShare < 0:
		o.LateShare = 0
	}
	if o.Faults == nil {
		f := DefaultFaults()
		o.Faults = &f
	}
	o.Clock = wallclock.OrWall(o.Clock)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first invalid option, naming it; zero values are
// defaults and valid.
func (o Options) Validate() error {
	switch {
	case o.Dossiers < 0 || o.Dossiers > math.MaxUint32/4:
		return fmt.Errorf("dossiers: %d: want 1–%d", o.Dossiers, math.MaxUint32/4)
	case o.HistoryDays < 0 || o.HistoryDays > 3650:
		return fmt.Errorf("history days: %d: want 1–3650", o.HistoryDays)
	case o.SessionTTL < 0:
		return fmt.Errorf("session TTL: %s: want a positive duration", o.SessionTTL)
	case o.MaxWindowRecords < 0:
		return fmt.Errorf("max window records: %d: want a positive number", o.MaxWindowRecords)
	case o.Hang < 0:
		return fmt.Errorf("hang: %s: want a positive duration", o.Hang)
	case math.IsNaN(o.LateShare) || o.LateShare > maxLateShare:
		return fmt.Errorf("late share: %v: want a share up to %v (negative: none)", o.LateShare, maxLateShare)
	case !o.Start.IsZero() && (o.Start.Year() < sla.MinYear+1 || o.Start.Year() > 2099-horizonYears):
		return fmt.Errorf("start: %s: want a year from %d to %d", o.Start.Format(time.DateOnly), sla.MinYear+1, 2099-horizonYears)
	case strings.ContainsAny(o.AgencyCode, " /"):
		return fmt.Errorf("agency code %q: want no spaces or slashes", o.AgencyCode)
	}
	if o.Faults != nil {
		if err := o.Faults.Validate(); err != nil {
			return fmt.Errorf("faults: %w", err)
		}
	}
	return nil
}

// maxLateShare leaves room for the refused, withdrawn and stopped dossiers.
const maxLateShare = 1 - refusedShare - withdrawnShare - stoppedShare

// gen holds what generating a dossier needs; it never changes after New.
type gen struct {
	seed      int64
	lateShare []float64 // by procedure
	clock     *clock
	dir       Directory
	nfd       nfdNames
	agency,
	short string // agency part of dossier codes, e.g. "H99.31"
	base int64 // Unix instant the compact uint32 times count from

	// Arrivals: dossier i is received at office position
	// w0 + floor((i + jitter) * span / n0), so they arrive at a steady rate in
	// office time and indices are in order of receipt.
	w0, span, n0   int64
	seqWidth       int
	firstOfWorkDay []int64  // index of the first dossier received on the j-th working day
	dateTag        []string // "yyMMdd" of the j-th working day

	cumWeight    []int
	totalWeight  int
	staff        map[string][]int // department → head, then the other officials
	deskOfficial int
}

func newGen(o Options, cal *sla.Calendar) (*gen, error) {
	start := o.Start.Unix()
	from := o.Start.AddDate(0, 0, -o.HistoryDays-30)
	to := o.Start.AddDate(horizonYears, 0, 0)
	if last := time.Date(2099, 12, 31, 0, 0, 0, 0, sla.Location()); to.After(last) {
		to = last // codes carry two-digit years: they must not wrap
	}
	c, err := newClock(cal, sla.DefaultOfficeHours(), from, to)
	if err != nil {
		return nil, err
	}
	g := &gen{seed: o.Seed, clock: c, agency: o.AgencyCode, base: dayStart(c.firstDay)}
	g.dir = newDirectory(o.AgencyCode, o.AgencyName, o.EmailDomain)
	g.nfd = newNFDNames(g.dir)
	g.lateShare = lateShares(g.dir.Procedures, o.LateShare)
	g.short = shortCode(o.AgencyCode)

	g.w0 = c.pos(o.Start.AddDate(0, 0, -o.HistoryDays).Unix())
	g.span = c.pos(start) - g.w0
	if g.span <= 0 {
		return nil, errors.New("no working time in the history before start")
	}
	g.n0 = int64(o.Dossiers)
	perDay := c.dayLen*g.n0/g.span + 2
	g.seqWidth = max(4, len(strconv.FormatInt(perDay, 10)))
	g.firstOfWorkDay = make([]int64, len(c.workDays)+1)
	g.dateTag = make([]string, len(c.workDays))
	for j := range g.firstOfWorkDay {
		g.firstOfWorkDay[j] = g.countBefore(int64(j) * c.dayLen)
		if j < len(c.workDays) {
			g.dateTag[j] = time.Unix(dayStart(c.firstDay+int64(c.workDays[j])), 0).In(sla.Location()).Format("060102")
		}
	}

	for _, p := range g.dir.Procedures {
		g.totalWeight += p.weight
		g.cumWeight = append(g.cumWeight, g.totalWeight)
	}
	g.staff = map[string][]int{}
	for _, dep := range g.dir.Departments {
		head, others := g.dir.staff(dep.Code)
		if head < 0 || len(others) == 0 {
			return nil, fmt.Errorf("department %s: needs a head and an official", dep.Code)
		}
		g.staff[dep.Code] = append([]int{head}, others...)
	}
	g.deskOfficial = g.staff[officeDepartment][1]
	return g, nil
}

// shortCode derives the agency part of dossier codes: "000.05.31.H99" → "H99.31".
func shortCode(agency string) string {
	parts := strings.Split(agency, ".")
	if len(parts) < 2 {
		return agency
	}
	return parts[len(parts)-1] + "." + parts[len(parts)-2]
}

func (g *gen) pickProcedure(w int) int {
	i, _ := slices.BinarySearch(g.cumWeight, w+1)
	return i
}

// arrival returns the office position at which dossier i is received.
func (g *gen) arrival(i uint64) int64 {
	jitter := hash64(g.seed, streamArrival, i) >> 44 // 20 bits
	hi, lo := bits.Mul64(i<<20|jitter, uint64(g.span))
	q, _ := bits.Div64(hi, lo, uint64(g.n0)<<20)
	return g.w0 + int64(q)
}

// countBefore returns how many dossiers are received before office position p.
func (g *gen) countBefore(p int64) int64 {
	if p <= g.w0 {
		return 0
	}
	// arrival(i) >= w0 + i*span/n0, so every dossier received before p has
	// i < (p-w0)*n0/span + 1.
	hi, lo := bits.Mul64(uint64(p-g.w0), uint64(g.n0))
	bound, _ := bits.Div64(hi, lo, uint64(g.span))
	return int64(sort.Search(int(bound)+2, func(i int) bool { return g.arrival(uint64(i)) >= p }))
}

// code returns dossier i's code: agency, date of receipt and the day's sequence,
// e.g. "H99.31-261128-0001". Codes sort in index order.
func (g *gen) code(i uint64) string {
	j := g.arrival(i) / g.clock.dayLen
	seq := int64(i) - g.firstOfWorkDay[j] + 1
	b := make([]byte, 0, len(g.short)+8+g.seqWidth)
	b = append(b, g.short...)
	b = append(b, '-')
	b = append(b, g.dateTag[j]...)
	b = append(b, '-')
	n := strconv.AppendInt(nil, seq, 10)
	for k := len(n); k < g.seqWidth; k++ {
		b = append(b, '0')
	}
	return string(append(b, n...))
}

// index returns the dossier a code names, if it names one.
func (g *gen) index(code string) (uint64, bool) {
	rest, ok := strings.CutPrefix(code, g.short+"-")
	if !ok || len(rest) < 8 || rest[6] != '-' {
		return 0, false
	}
	j, found := slices.BinarySearch(g.dateTag, rest[:6])
	if !found {
		return 0, false
	}
	seq, err := strconv.ParseInt(rest[7:], 10, 64)
	if err != nil || seq < 1 {
		return 0, false
	}
	i := g.firstOfWorkDay[j] + seq - 1
	if i >= g.firstOfWorkDay[j+1] || g.code(uint64(i)) != code {
		return 0, false
	}
	return uint64(i), true
}

// rel and abs convert between Unix instants and the compact uint32 form.
func (g *gen) rel(t int64) uint32 { return uint32(t - g.base) }
func (g *gen) abs(r uint32) int64 { return g.base + int64(r) }

// never marks a dossier whose records will not change again.
const never = math.MaxUint32

// view is what requests read: the simulated time and, per portal, the existing
// dossiers sorted by (update time, code), packed as (time-base)<<32 | index.
// Views are immutable; advancing the time publishes a new one.
type view struct {
	now int64
	n   int // dossiers generated so far: indices below n
	os  []uint64
	dv  []uint64
	dvr dvRates

	censusOnce sync.Once
	census     Census
}

// Sim is a running portal simulator. It is safe for concurrent use.
type Sim struct {
	opts Options
	g    *gen
	log  *slog.Logger

	mu   sync.RWMutex // guards v, next, stOS and stDV; held for writing while time advances
	v    *view
	next []uint32 // when each dossier's records next change (rel), or never
	stOS []uint8  // status on the one-stop system at v.now, 0 when absent
	stDV []uint8  // status on DVCQG at v.now, 0 when absent

	faultsMu sync.Mutex
	faults   Faults

	sessions sessions
	seq      atomic.Uint64 // API requests served, numbering fault draws
	counts   counters

	closed    chan struct{}
	closeOnce sync.Once
}

// New builds a simulator at Options.Start. It panics on invalid Options: check
// options that come from users with Options.Validate first.
func New(opts Options) *Sim {
	if err := opts.Validate(); err != nil {
		panic("portalsim: " + err.Error())
	}
	opts.setDefaults()
	cal := opts.Calendar
	if cal == nil {
		var err error
		if cal, err = sla.LoadCalendar(""); err != nil {
			panic("portalsim: built-in calendar: " + err.Error())
		}
	}
	g, err := newGen(opts, cal)
	if err != nil {
		panic("portalsim: " + err.Error())
	}
	s := &Sim{opts: opts, g: g, log: opts.Logger, faults: *opts.Faults, closed: make(chan struct{})}
	s.faults.ExpireSessions = false // an action, and there is no session yet
	s.sessions.m = map[string]session{}
	s.v = &view{now: opts.Start.Unix(), dvr: s.faults.dvRates()}
	s.moveTo(opts.Start.Unix(), true)
	return s
}

// Close releases requests held by timeout faults. The handler keeps answering.
func (s *Sim) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// Directory returns the agency, departments, officials and procedures.
func (s *Sim) Directory() Directory {
	d := s.g.dir
	d.Departments = slices.Clone(d.Departments)
	d.Officials = slices.Clone(d.Officials)
	d.Procedures = slices.Clone(d.Procedures)
	return d
}

// Now returns the simulated time.
func (s *Sim) Now() time.Time { return time.Unix(s.view().now, 0).In(sla.Location()) }

func (s *Sim) view() *view {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.v
}

// AdvanceResult says what moving the simulated time did.
type AdvanceResult struct {
	SimTime       time.Time `json:"sim_time"`
	Minutes       int       `json:"minutes"`
	Dossiers      int       `json:"dossiers"`       // on the one-stop system now
	DVCQGDossiers int       `json:"dvcqg_dossiers"` // on DVCQG now
	Changed       int       `json:"changed"`        // dossiers whose records changed, new ones included
	Arrived       int       `json:"arrived"`        // dossiers that appeared
}

// ErrHorizon is returned when the simulated time would leave the calendar the
// simulator was built with.
var ErrHorizon = errors.New("simulated time would pass the simulator's horizon")

// Advance moves the simulated time forward by whole minutes: dossiers move on
// through their lifecycles and new ones arrive.
func (s *Sim) Advance(minutes int) (AdvanceResult, error) {
	if minutes < 1 {
		return AdvanceResult{}, fmt.Errorf("advance %d minutes: want at least 1", minutes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.v.now + int64(minutes)*60
	if t > s.g.clock.lastUnix()-2*366*daySec {
		return AdvanceResult{}, fmt.Errorf("advance to %s: %w", time.Unix(t, 0).In(sla.Location()).Format(time.DateOnly), ErrHorizon)
	}
	changed, arrived := s.moveTo(t, false)
	return AdvanceResult{
		SimTime: time.Unix(t, 0).In(sla.Location()), Minutes: minutes,
		Dossiers: len(s.v.os), DVCQGDossiers: len(s.v.dv), Changed: changed, Arrived: arrived,
	}, nil
}

// moveTo recomputes the records that change by t (all of them when full) and
// publishes a view at t. The caller holds s.mu for writing, except in New.
func (s *Sim) moveTo(t int64, full bool) (changed, arrived int) {
	g, old := s.g, s.v
	dvr := s.currentDVRates()
	if dvr != old.dvr {
		full = true
	}
	oldN := old.n
	newN := max(oldN, int(g.countBefore(g.clock.pos(t+maxLead)+1)))
	relT := g.rel(t)

	var todo []uint32
	for i := 0; i < oldN; i++ {
		if full || s.next[i] <= relT {
			todo = append(todo, uint32(i))
		}
	}
	for i := oldN; i < newN; i++ {
		todo = append(todo, uint32(i))
	}
	type result struct {
		uOS, uDV, next uint32
		stOS, stDV     uint8
	}
	res := make([]result, len(todo))
	parallel(len(todo), func(lo, hi int) {
		var l life
		for k := lo; k < hi; k++ {
			g.plan(uint64(todo[k]), dvr, &l)
			st, u, _ := l.at(t)
			r := result{stOS: uint8(st), uOS: g.rel(u), next: never}
			if asOf, du, ok := l.dvAt(t); ok {
				dst, _, _ := l.at(asOf)
				r.stDV, r.uDV = uint8(dst), g.rel(du)
			}
			if nc := l.nextChange(t); nc != 0 {
				r.next = g.rel(nc)
			}
			res[k] = r
		}
	})

	// Dossiers that were not redone keep their entries; the redone ones are
	// sorted apart and merged in. (Most land at the end, but a dossier redone
	// because one portal's copy changed keeps its update time on the other.)
	var keptOS, keptDV []uint64
	if !full {
		keep := func(idx []uint64) []uint64 {
			out := make([]uint64, 0, len(idx))
			for _, e := range idx {
				if s.next[uint32(e)] > relT {
					out = append(out, e)
				}
			}
			return out
		}
		keptOS, keptDV = keep(old.os), keep(old.dv)
	}
	v := &view{now: t, n: newN, dvr: dvr}
	s.next = growTo(s.next, newN)
	s.stOS = growTo(s.stOS, newN)
	s.stDV = growTo(s.stDV, newN)
	newOS, newDV := make([]uint64, 0, len(todo)), make([]uint64, 0, len(todo))
	for k, i := range todo {
		r := res[k]
		if r.stOS != 0 && s.stOS[i] == 0 {
			arrived++
		}
		if i < uint32(oldN) || r.stOS != 0 || r.stDV != 0 {
			changed++ // an old dossier is redone only when one of its records changed
		}
		s.next[i], s.stOS[i], s.stDV[i] = r.next, r.stOS, r.stDV
		if r.stOS != 0 {
			newOS = append(newOS, uint64(r.uOS)<<32|uint64(i))
		}
		if r.stDV != 0 {
			newDV = append(newDV, uint64(r.uDV)<<32|uint64(i))
		}
	}
	slices.Sort(newOS)
	slices.Sort(newDV)
	v.os, v.dv = merge(keptOS, newOS), merge(keptDV, newDV)
	if full {
		changed, arrived = 0, 0
	}
	s.v = v
	return changed, arrived
}

// merge merges two sorted slices into a new one.
func merge(a, b []uint64) []uint64 {
	if len(a) == 0 {
		return b
	}
	out := make([]uint64, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func growTo[T any](a []T, n int) []T {
	if n <= len(a) {
		return a
	}
	return append(a, make([]T, n-len(a))...)
}

// parallel runs fn over [0, n) in chunks on every CPU.
func parallel(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 4096 || workers == 1 {
		fn(0, n)
		return
	}
	const chunk = 4096
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// Portal names a simulated portal.
type Portal string

// The two simulated portals.
const (
	OneStop Portal = "onestop"
	DVCQG   Portal = "dvcqg"
)

// WriteState writes the ground truth: one JSON record per line, exactly as the
// portal's API serves it, for every dossier the portal has at the simulated
// time, sorted by code. No fault touches it.
func (s *Sim) WriteState(w io.Writer, p Portal) error {
	return s.writeState(w, p, s.view())
}

func (s *Sim) writeState(w io.Writer, p Portal, v *view) error {
	if p != OneStop && p != DVCQG {
		return fmt.Errorf("write state: unknown portal %q", p)
	}
	const chunk = 2048
	type part struct {
		buf  []byte
		done chan struct{}
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make(chan *part, workers*2)
	go func() {
		defer close(parts)
		sem := make(chan struct{}, workers)
		for lo := 0; lo < v.n; lo += chunk {
			pt := &part{done: make(chan struct{})}
			parts <- pt
			sem <- struct{}{}
			go func(lo, hi int) {
				defer func() { <-sem; close(pt.done) }()
				var l life
				for i := lo; i < hi; i++ {
					s.g.plan(uint64(i), v.dvr, &l)
					pt.buf = s.g.appendRecord(pt.buf, &l, p, v.now)
				}
			}(lo, min(lo+chunk, v.n))
		}
	}()
	var err error
	for pt := range parts {
		<-pt.done
		if err == nil {
			_, err = w.Write(pt.buf)
		}
	}
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// appendRecord appends the dossier's record on portal p at t and a newline, or
// nothing when the portal does not have it at t.
func (g *gen) appendRecord(buf []byte, l *life, p Portal, t int64) []byte {
	switch p {
	case OneStop:
		if l.first() > t {
			return buf
		}
		buf = g.appendOS(buf, l, t)
	default:
		asOf, updated, ok := l.dvAt(t)
		if !ok {
			return buf
		}
		buf = g.appendDV(buf, l, asOf, updated)
	}
	return append(buf, '\n')
}

// Census counts dossiers at the simulated time by status and by how they stand
// against their deadlines, for the one-stop system unless a field says DVCQG.
type Census struct {
	SimTime  time.Time      `json:"sim_time"`
	Dossiers int            `json:"dossiers"`
	ByStatus map[string]int `json:"by_status"`
	Online   int            `json:"online"`   // submitted online (KenhThucHien 2)
	Lateness map[string]int `json:"lateness"` // by the Kind… constants
	DVCQG    map[string]int `json:"dvcqg"`    // missing there, in another status there, or behind in time
}

// The kinds counted in Census.Lateness, judged as the decided rules judge
// lateness: against the appointment in force (NgayHenTra, or the new
// appointment of the last supplement round returned), compared by date, the
// end of processing being when the dossier was processed, however late the
// citizen collects the result. A dossier counts in one of the first nine and
// in any of the last five.
const (
	KindOpenWithinDue     = "open_within_due"
	KindDueSoon           = "due_soon" // open, due within a working day
	KindOverdue           = "overdue"  // open, past its due date
	KindPaused            = "paused"   // waiting for the citizen or for payment
	KindFinishedOnTime    = "finished_on_time"
	KindFinishedLate      = "finished_late"
	KindRefused           = "refused"
	KindWithdrawn         = "withdrawn"
	KindStopped           = "stopped"
	KindSupplementedTwice = "supplemented_twice"
	KindApologized        = "apologized"
	KindRescheduledTwice  = "rescheduled_twice"
	KindLateApology       = "late_apology"   // an apology issued after the last working day before the appointment
	KindCollectedLate     = "collected_late" // processed on time, the result collected after the appointment's date
)

// Census counts the dossiers at the simulated time; it regenerates every
// dossier, so it is computed once per simulated time.
func (s *Sim) Census() Census {
	v := s.view()
	v.censusOnce.Do(func() { v.census = s.g.census(v) })
	c := v.census
	c.ByStatus = cloneMap(c.ByStatus)
	c.Lateness = cloneMap(c.Lateness)
	c.DVCQG = cloneMap(c.DVCQG)
	return c
}

func cloneMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (g *gen) census(v *view) Census {
	type tally struct {
		status [11]int
		kinds  map[string]int
		online int
		dv     map[string]int
	}
	var mu sync.Mutex
	total := tally{kinds: map[string]int{}, dv: map[string]int{}}
	parallel(v.n, func(lo, hi int) {
		t := tally{kinds: map[string]int{}, dv: map[string]int{}}
		var l life
		for i := lo; i < hi; i++ {
			g.plan(uint64(i), v.dvr, &l)
			st, updated, n := l.at(v.now)
			if st == 0 {
				continue
			}
			t.status[st]++
			if l.channel == dvcwatch.ChannelOnline {
				t.online++
			}
			kind := g.lateness(&l, st, v.now)
			t.kinds[kind]++
			if kind == KindFinishedOnTime && st == dvcwatch.StatusReturned && localDay(l.returned) > localDay(l.dueAt(v.now)) {
				t.kinds[KindCollectedLate]++
			}
			supps, apols, lateApols := 0, 0, 0
			for _, e := range l.ev[:n] {
				switch e.kind {
				case evSuppRequested:
					supps++
				case evApology:
					if g.clock.workDay(e.at) >= g.clock.workDay(l.dueAt(e.at)) {
						lateApols++
					}
					apols++
				}
			}
			if lateApols > 0 {
				t.kinds[KindLateApology]++
			}
			if supps >= 2 {
				t.kinds[KindSupplementedTwice]++
			}
			if apols >= 1 {
				t.kinds[KindApologized]++
			}
			if apols >= 2 {
				t.kinds[KindRescheduledTwice]++
			}
			asOf, _, ok := l.dvAt(v.now)
			switch {
			case !ok:
				t.dv["missing"]++
			case statusAt(&l, asOf) != st:
				t.dv["other_status"]++
			case asOf != updated:
				t.dv["behind"]++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for k := range t.status {
			total.status[k] += t.status[k]
		}
		for k, n := range t.kinds {
			total.kinds[k] += n
		}
		for k, n := range t.dv {
			total.dv[k] += n
		}
		total.online += t.online
	})
	c := Census{SimTime: time.Unix(v.now, 0).In(sla.Location()), ByStatus: map[string]int{}, Lateness: map[string]int{}, Online: total.online,
		DVCQG: map[string]int{"missing": total.dv["missing"], "other_status": total.dv["other_status"], "behind": total.dv["behind"]}}
	for st, n := range total.status {
		c.Dossiers += n
		if n > 0 {
			c.ByStatus[strconv.Itoa(st)] = n
		}
	}
	for _, k := range []string{KindOpenWithinDue, KindDueSoon, KindOverdue, KindPaused, KindFinishedOnTime, KindFinishedLate,
		KindRefused, KindWithdrawn, KindStopped, KindSupplementedTwice, KindApologized, KindRescheduledTwice,
		KindLateApology, KindCollectedLate} {
		c.Lateness[k] = total.kinds[k]
	}
	return c
}

func statusAt(l *life, t int64) dvcwatch.Status {
	st, _, _ := l.at(t)
	return st
}

// lateness classifies a dossier at t into one of the first nine census kinds.
func (g *gen) lateness(l *life, st dvcwatch.Status, t int64) string {
	switch st {
	case dvcwatch.StatusRefused:
		return KindRefused
	case dvcwatch.StatusWithdrawn:
		return KindWithdrawn
	case dvcwatch.StatusStopped:
		return KindStopped
	case dvcwatch.StatusAwaitingSupplement, dvcwatch.StatusAwaitingPayment:
		return KindPaused
	case dvcwatch.StatusSubmitted:
		return KindOpenWithinDue // the clock has not started
	}
	due := l.dueAt(t)
	switch {
	case st == dvcwatch.StatusProcessed || st == dvcwatch.StatusReturned:
		if localDay(l.processed) <= localDay(due) {
			return KindFinishedOnTime
		}
		return KindFinishedLate
	case localDay(t) > localDay(due):
		return KindOverdue
	case g.clock.pos(due)-g.clock.pos(t) <= g.clock.dayLen:
		return KindDueSoon
	}
	return KindOpenWithinDue
}
