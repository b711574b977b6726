package portalsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch/sla"
)

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := setup(t, Options{Seed: 7})
	b := setup(t, Options{Seed: 7})
	other := setup(t, Options{Seed: 8})
	for _, p := range []Portal{OneStop, DVCQG} {
		sa, sb := a.state(t, p), b.state(t, p)
		if len(sa) < 300 {
			t.Fatalf("%s: only %d dossiers", p, len(sa))
		}
		sameState(t, string(p)+" with the same seed", sa, sb)
		so := other.state(t, p)
		same := 0
		for code, line := range so {
			if sa[code] == line {
				same++
			}
		}
		if same > 0 {
			t.Errorf("%s: another seed served %d identical records", p, same)
		}
	}
	// Advancing keeps them identical.
	a.advance(t, 300)
	b.advance(t, 180)
	b.advance(t, 120)
	for _, p := range []Portal{OneStop, DVCQG} {
		sameState(t, string(p)+" after advancing", a.state(t, p), b.state(t, p))
	}
}

// An advanced simulator serves exactly what a fresh one started at the later
// time serves: the incremental index rebuild loses and invents nothing.
func TestAdvanceMatchesFreshStart(t *testing.T) {
	t.Parallel()
	later := testStart.Add(3*24*time.Hour + 7*time.Hour + 11*time.Minute)
	a := setup(t, Options{Seed: 3, Dossiers: 600})
	for _, m := range []int{1, 59, 600, 3000, int(later.Sub(testStart)/time.Minute) - 3660} {
		a.advance(t, m)
	}
	if !a.sim.Now().Equal(later) {
		t.Fatalf("sim time %s, want %s", a.sim.Now(), later)
	}
	// A fresh start at the later time has a different history window, so build
	// it with the same arrival parameters by hand.
	g := a.sim.g
	v := a.sim.view()
	var l life
	var wantOS, wantDV []uint64
	for i := 0; i < v.n; i++ {
		g.plan(uint64(i), v.dvr, &l)
		if st, u, _ := l.at(v.now); st != 0 {
			wantOS = append(wantOS, uint64(g.rel(u))<<32|uint64(i))
		}
		if _, u, ok := l.dvAt(v.now); ok {
			wantDV = append(wantDV, uint64(g.rel(u))<<32|uint64(i))
		}
	}
	slices.Sort(wantOS)
	slices.Sort(wantDV)
	if !slices.Equal(v.os, wantOS) {
		t.Errorf("one-stop index after advancing differs from a full rebuild (%d vs %d entries)", len(v.os), len(wantOS))
	}
	if !slices.Equal(v.dv, wantDV) {
		t.Errorf("DVCQG index after advancing differs from a full rebuild (%d vs %d entries)", len(v.dv), len(wantDV))
	}
	if last := g.countBefore(g.clock.pos(v.now+maxLead) + 1); int(last) != v.n {
		t.Errorf("generated %d dossiers, want %d", v.n, last)
	}
}

func TestMix(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 11, Dossiers: 3000})
	c := b.sim.Census()
	t.Logf("at start: %d dossiers, %v, %v, dvcqg %v", c.Dossiers, c.ByStatus, c.Lateness, c.DVCQG)
	for st := 1; st <= 10; st++ {
		if c.ByStatus[strconv.Itoa(st)] == 0 {
			t.Errorf("no dossier in status %d at start", st)
		}
	}
	for k, n := range c.Lateness {
		if n == 0 {
			t.Errorf("no dossier is %s at start", k)
		}
	}
	for _, k := range []string{"missing", "other_status"} {
		if c.DVCQG[k] == 0 {
			t.Errorf("no dossier is %s on DVCQG", k)
		}
	}
	share := func(k string) float64 { return float64(c.Lateness[k]) / float64(c.Dossiers) }
	for _, r := range []struct {
		kind   string
		lo, hi float64
	}{
		// On-time rates in the high 90s per cent, as provinces publish.
		{KindFinishedOnTime, 0.8, 0.95},
		{KindFinishedLate, 0.01, 0.035},
		{KindOverdue, 0.002, 0.015},
		{KindRefused, 0.02, 0.045},
		{KindWithdrawn, 0.008, 0.03},
		{KindSupplementedTwice, 0.001, 0.01},
		{KindCollectedLate, 0.05, 0.3},
	} {
		if s := share(r.kind); s < r.lo || s > r.hi {
			t.Errorf("%s: %.1f%% of dossiers, want %.0f–%.0f%%", r.kind, 100*s, 100*r.lo, 100*r.hi)
		}
	}
	if online := float64(c.Online) / float64(c.Dossiers); online < 0.25 || online > 0.6 {
		t.Errorf("online share %.2f", online)
	}

	res := b.advance(t, 2*24*60)
	if res.Changed == 0 || res.Arrived == 0 {
		t.Errorf("advancing two working days changed %d and brought %d dossiers", res.Changed, res.Arrived)
	}
	after := b.sim.Census()
	if after.Dossiers <= c.Dossiers {
		t.Errorf("dossiers %d → %d after advancing", c.Dossiers, after.Dossiers)
	}
	if after.ByStatus["10"] <= c.ByStatus["10"] {
		t.Errorf("returned dossiers %d → %d after advancing", c.ByStatus["10"], after.ByStatus["10"])
	}
	var st Stats
	getJSON(t, b, "/sim/stats", &st)
	if st.Dossiers != after.Dossiers || !st.SimTime.Equal(testStart.Add(48*time.Hour)) {
		t.Errorf("stats: %d dossiers at %s, census %d", st.Dossiers, st.SimTime, after.Dossiers)
	}
	for k, n := range after.ByStatus {
		if st.ByStatus[k] != n {
			t.Errorf("stats by status %s: %d, census %d", k, st.ByStatus[k], n)
		}
	}
}

func TestDateHeaderIsSimTime(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	check := func(want time.Time, method, path string, body any, header ...string) {
		t.Helper()
		resp, _ := b.do(t, method, path, body, header...)
		got, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || !got.Equal(want) {
			t.Errorf("%s %s: Date %q, want %s", method, path, resp.Header.Get("Date"), want.UTC().Format(http.TimeFormat))
		}
	}
	login := map[string]string{"username": DefaultUsername, "password": DefaultPassword}
	check(testStart, "POST", "/api/auth", login, "dstcode", DefaultAgencyCode)
	check(testStart, "POST", "/api/v1/auth/token", login)
	check(testStart, "GET", "/api/v1/dossiers", nil)
	check(testStart, "GET", "/sim/stats", nil)
	check(testStart.Add(90*time.Minute), "POST", "/sim/advance?minutes=90", nil)
	check(testStart.Add(90*time.Minute), "GET", "/no/such/path", nil)
	b.setFaults(t, Faults{ErrorRate: 1})
	check(testStart.Add(90*time.Minute), "POST", "/api/v1/auth/token", login)
}

func TestCodes(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 5, Dossiers: 5000})
	g := b.sim.g
	prev := ""
	for i := uint64(0); i < 6000; i++ {
		code := g.code(i)
		if code <= prev {
			t.Fatalf("code %d %q sorts before code %d %q", i, code, i-1, prev)
		}
		if j, ok := g.index(code); !ok || j != i {
			t.Fatalf("index(%q) = %d, %v; want %d", code, j, ok, i)
		}
		prev = code
	}
	if code := g.code(0); !strings.HasPrefix(code, "H99.31-26") || len(code) != len("H99.31-260826-0001") {
		t.Errorf("code %q: want the form H99.31-yyMMdd-0001", code)
	}
	for _, bad := range []string{"", "H99.31-", "H99.31-261124-0000", "H99.31-261124-00001", "H99.31-261129-0001", "X99.31-261124-0001", "H99.31-261124-99999"} {
		if i, ok := g.index(bad); ok {
			t.Errorf("index(%q) = %d, want no dossier", bad, i)
		}
	}
	// The first dossier of a day is numbered 0001, and the day is its receipt's.
	var l life
	g.plan(0, dvRates{}, &l)
	recv := max(l.received, l.refused)
	if day := time.Unix(recv, 0).In(sla.Location()).Format("060102"); !strings.Contains(g.code(0), "-"+day+"-0001") {
		t.Errorf("code %s for a dossier received on %s", g.code(0), day)
	}
}

// The keyset search compares update times first and codes second.
func TestKeysetAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 5})
	g := b.sim.g
	base := g.base + 1000
	idx := []uint64{ // three dossiers share an update time
		uint64(g.rel(base))<<32 | 4,
		uint64(g.rel(base+5))<<32 | 1,
		uint64(g.rel(base+5))<<32 | 2,
		uint64(g.rel(base+5))<<32 | 3,
		uint64(g.rel(base+9))<<32 | 0,
	}
	at := func(u int64) time.Time { return time.Unix(u, 0) }
	for _, c := range []struct {
		t    time.Time
		code string
		want int
	}{
		{at(base - 1), "", 0},
		{at(base), "", 0},
		{at(base), g.code(4), 1},
		{at(base + 5), g.code(1), 2},
		{at(base + 5), g.code(2), 3},
		{at(base + 5), g.code(3), 4},
		{at(base + 5).Add(time.Millisecond), "", 4},
		{at(base + 9), g.code(0), 5},
		{at(base + 99), "", 5},
	} {
		if got := g.after(idx, c.t, c.code); got != c.want {
			t.Errorf("after(%s, %q) = %d, want %d", c.t, c.code, got, c.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Dossiers: -1}, "dossiers"},
		{Options{Start: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)}, "start"},
		{Options{Faults: &Faults{ErrorRate: 1.5}}, "error_rate"},
		{Options{Faults: &Faults{ErrorRate: 0.6, TimeoutRate: 0.6}}, "sum to 1.2"},
		{Options{AgencyCode: "a b"}, "agency code"},
	} {
		if err := c.o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %s", c.o, err, c.want)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 1})
	d := b.sim.Directory()
	if d.Agency.Code != DefaultAgencyCode || d.Agency.Name != DefaultAgencyName {
		t.Errorf("agency %+v", d.Agency)
	}
	ids := map[string]string{}
	for _, o := range d.Officials {
		ids[o.ID] = o.DepartmentCode
	}
	for _, dep := range d.Departments {
		if ids[dep.Head] != dep.Code {
			t.Errorf("department %s: head %s is not one of its officials", dep.Code, dep.Head)
		}
	}
	units := map[sla.Unit]bool{}
	for _, p := range d.Procedures {
		units[p.Limit.Unit] = true
		if !slices.ContainsFunc(d.Departments, func(dep Department) bool { return dep.Code == p.Department }) {
			t.Errorf("procedure %s: department %s unknown", p.Code, p.Department)
		}
	}
	if !units[sla.WorkingDays] || !units[sla.CalendarDays] || !units[sla.WorkingHours] {
		t.Errorf("procedure limits use units %v, want wd, d and h", units)
	}
	// Every step and apology names an official of the directory, by user name
	// or by display name, decomposed (NFD) or not.
	names := map[string]bool{}
	for _, o := range d.Officials {
		names[o.ID], names[o.Name] = true, true
	}
	for _, line := range b.state(t, OneStop) {
		for _, field := range []string{`"official":"`, `"issued_by":"`} {
			for _, part := range strings.Split(line, field)[1:] {
				id, _, _ := strings.Cut(part, `"`)
				if !names[norm.NFC.String(id)] {
					t.Fatalf("record names official %q, not in the directory", id)
				}
			}
		}
	}
}
