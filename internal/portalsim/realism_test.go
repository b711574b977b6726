package portalsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch/sla"
)

// The planned lifecycles follow the decided rules for judging lateness:
// every planned outcome holds against the appointment the citizen holds,
// compared by date, and the shares are those of a province publishing on-time
// rates in the high 90s.
func TestPlansFollowTheDecidedRules(t *testing.T) {
	t.Parallel()
	s := New(Options{Seed: 13, Dossiers: 20000, Start: testStart})
	g, v, c := s.g, s.view(), s.g.clock
	day := func(u int64) int64 { return localDay(u) }
	n := map[string]int{}
	var l life
	for i := 0; i < v.n; i++ {
		g.plan(uint64(i), v.dvr, &l)
		n["dossiers"]++
		if l.submitted != 0 {
			n["online"]++
			if c.pos(max(l.received, l.refused))-c.pos(l.submitted) > quickReception {
				n["slow_reception"]++
			}
		}
		if l.received == 0 {
			continue
		}
		n["received"]++
		appt := l.dueAt(l.ev[l.nEv-1].at) // the appointment in force at the end
		for j := 0; j < l.nSupp; j++ {
			su := l.supps[j]
			if su.returned != 0 && su.dueAfter != c.deadline(su.returned, g.dir.Procedures[l.proc].Limit, nil) {
				t.Fatalf("dossier %d: round %d's new appointment does not restart the limit from the return", i, j+1)
			}
			if j == 0 && c.pos(su.requested)-c.pos(l.received) > c.dayLen {
				n["late_supplement_request"]++
			}
		}
		if l.nSupp >= 2 {
			n["supplemented_twice"]++
		}
		if l.payReq != 0 {
			n["waited_for_payment"]++
		}
		switch l.outcome {
		case outOnTime:
			if l.processed == 0 || day(l.processed) > day(appt) {
				t.Fatalf("dossier %d: planned on time, processed %s for an appointment on %s", i, hcm(l.processed), hcm(appt))
			}
			if l.processed > appt {
				n["on_time_by_date_only"]++
			}
			for k := 0; k < l.nSteps; k++ {
				if st := l.steps[k]; st.finish > st.due {
					t.Fatalf("dossier %d: planned on time, step %d finished %s after its due %s", i, k+1, hcm(st.finish), hcm(st.due))
				}
			}
			if day(l.returned) > day(appt) {
				n["collected_late"]++
			}
		case outLate, outStuck:
			n["late"]++
			if day(l.processed) <= day(appt) {
				t.Fatalf("dossier %d: planned late, processed %s for an appointment on %s", i, hcm(l.processed), hcm(appt))
			}
			switch {
			case l.nApol == 0:
				n["no_apology"]++
			case c.workDay(l.apol[0].issued) < c.workDay(l.dueAt(l.apol[0].issued)):
				n["timely_apology"]++
			default:
				n["late_apology"]++
			}
			if l.nApol == 2 {
				n["rescheduled_twice"]++
			}
		case outWithdrawn:
			if l.cut >= appt {
				t.Fatalf("dossier %d: withdrawn at %s, after its appointment %s", i, hcm(l.cut), hcm(appt))
			}
		}
	}
	t.Logf("%v", n)
	share := func(k, of string) float64 { return float64(n[k]) / float64(n[of]) }
	for _, c := range []struct {
		kind, of string
		lo, hi   float64
	}{
		{"late", "dossiers", 0.02, 0.04}, // DefaultLateShare
		{"timely_apology", "late", 0.6, 0.9},
		{"late_apology", "late", 0.03, 0.25},
		{"no_apology", "late", 0.03, 0.2},
		{"rescheduled_twice", "late", 0.005, 0.1},
		{"supplemented_twice", "received", 0.002, 0.01},
		{"late_supplement_request", "received", 0.0001, 0.005},
		{"waited_for_payment", "received", 0.2, 0.6},
		{"collected_late", "received", 0.05, 0.4},
		{"on_time_by_date_only", "received", 0.01, 0.08},
		{"slow_reception", "online", 0.015, 0.05},
	} {
		if got := share(c.kind, c.of); got < c.lo || got > c.hi {
			t.Errorf("%s: %.2f%% of %s, want %.2g–%.2g%%", c.kind, 100*got, c.of, 100*c.lo, 100*c.hi)
		}
	}
}

func hcm(u int64) string { return time.Unix(u, 0).In(sla.Location()).Format(time.DateTime) }

// Options.LateShare sets the share of late dossiers the census counts.
func TestLateShare(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		share  float64
		lo, hi float64
	}{
		{0, 0.015, 0.04}, // the default
		{0.2, 0.12, 0.25},
		{-1, 0, 0},
	} {
		t.Run(fmt.Sprint(c.share), func(t *testing.T) {
			t.Parallel()
			s := New(Options{Seed: 17, Dossiers: 5000, Start: testStart, LateShare: c.share})
			cen := s.Census()
			late := float64(cen.Lateness[KindFinishedLate]+cen.Lateness[KindOverdue]) / float64(cen.Dossiers)
			t.Logf("late share %v: %.2f%% late or overdue at start, %v", c.share, 100*late, cen.Lateness)
			if late < c.lo || late > c.hi {
				t.Errorf("%.2f%% late or overdue, want %.3g–%.3g%%", 100*late, 100*c.lo, 100*c.hi)
			}
		})
	}
	if err := (Options{LateShare: 0.99}).Validate(); err == nil || !strings.Contains(err.Error(), "late share") {
		t.Errorf("Validate(LateShare 0.99) = %v, want an error about the late share", err)
	}
}

// Both portals write some names decomposed (NFD), some officials by display
// name, and leave some steps' department blank; the national portal's steps
// are progress updates, the last one of an open dossier naming who holds it.
func TestTextAndProgressAsPortalsSendThem(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 19, Dossiers: 3000, Faults: &Faults{}})
	dir := b.sim.Directory()
	names := map[string]bool{}
	for _, o := range dir.Officials {
		names[o.Name] = true
	}
	for _, p := range dir.Procedures {
		names[p.Name] = true
	}

	type item struct {
		Applicant struct {
			Name string `json:"name"`
		} `json:"applicant"`
		ProcedureName string                                  `json:"procedure_name"`
		Steps         []struct{ Department, Official string } `json:"steps"`
	}
	n := map[string]int{}
	for code, line := range b.state(t, OneStop) {
		var it item
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatal(err)
		}
		if !norm.NFC.IsNormalString(it.Applicant.Name) {
			n["nfd_applicant"]++
		}
		if !norm.NFC.IsNormalString(it.ProcedureName) {
			n["nfd_procedure"]++
			if !names[norm.NFC.String(it.ProcedureName)] {
				t.Fatalf("%s: procedure %q is no procedure of the directory, even in NFC", code, it.ProcedureName)
			}
		}
		for _, st := range it.Steps {
			switch {
			case !norm.NFC.IsNormalString(st.Official):
				n["nfd_official"]++
				if !names[norm.NFC.String(st.Official)] {
					t.Fatalf("%s: official %q is no official of the directory, even in NFC", code, st.Official)
				}
			case names[st.Official]:
				n["official_by_name"]++
			}
			if st.Department == "" {
				n["blank_department"]++
			}
		}
	}
	t.Logf("%v", n)
	for _, k := range []string{"nfd_applicant", "nfd_procedure", "nfd_official", "official_by_name", "blank_department"} {
		if n[k] < 20 {
			t.Errorf("%s: %d, want some", k, n[k])
		}
	}

	dv := map[string]dvRecord{}
	for code, line := range b.state(t, DVCQG) {
		var r dvRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		prev := ""
		for _, u := range r.QuaTrinhXuLy {
			if u.ThoiDiemXuLy == "" || u.ThoiDiemXuLy < prev {
				t.Fatalf("%s: progress updates out of order or without a time: %+v", code, r.QuaTrinhXuLy)
			}
			prev = u.ThoiDiemXuLy
		}
		dv[code] = r
	}
	// The last update of a dossier in progress names the official of the step
	// in progress when the national copy was made.
	g, v := b.sim.g, b.sim.view()
	open := 0
	var l life
	for i := 0; i < v.n; i++ {
		g.plan(uint64(i), v.dvr, &l)
		asOf, _, ok := l.dvAt(v.now)
		if !ok || statusAt(&l, asOf) != 4 {
			continue
		}
		holder := -1
		for k := 0; k < l.nSteps && l.steps[k].start <= asOf; k++ {
			if f := l.steps[k].finish; f == 0 || f > asOf {
				holder = k
			}
		}
		r := dv[g.code(uint64(i))]
		want := g.official(l.steps[holder].official, g.style(uint64(i)))
		if last := r.QuaTrinhXuLy[len(r.QuaTrinhXuLy)-1]; last.NguoiXuLy != want {
			t.Fatalf("%s: the last progress update names %q, the step in progress %q", r.MaHoSo, last.NguoiXuLy, want)
		}
		open++
	}
	if open < 20 {
		t.Errorf("only %d dossiers in progress on both portals", open)
	}
}

// With dvcqg_whole_days, DanhSachHoSo lists every record of the days of both
// ends, whatever their hours.
func TestDVCQGWholeDays(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 23, Faults: &Faults{DVCQGWholeDays: true}})
	byDay := map[string][]string{}
	for code, line := range b.state(t, DVCQG) {
		var k dvKey
		if err := json.Unmarshal([]byte(line), &k); err != nil {
			t.Fatal(err)
		}
		byDay[k.NgayCapNhat[:8]] = append(byDay[k.NgayCapNhat[:8]], code)
	}
	c := b.client(t, 5*time.Second)
	for _, w := range []struct{ from, to, days string }{
		{"20261123100000", "20261123110000", "20261123"},
		{"20261123235959", "20261124000000", "20261123 20261124"},
		{"20261120000000", "20261120235959", "20261120"},
	} {
		var code string
		var result json.RawMessage
		c.retry(func() (err error) {
			code, result, _, err = c.dvCall("DanhSachHoSo", map[string]string{"ngayNhan1": w.from, "ngayNhan2": w.to})
			return err
		})
		var recs []dvKey
		if !ok(code) || json.Unmarshal(result, &recs) != nil {
			t.Fatalf("%s..%s: error_code %s", w.from, w.to, code)
		}
		want := 0
		for _, d := range strings.Fields(w.days) {
			want += len(byDay[d])
		}
		if len(recs) != want || want == 0 {
			t.Errorf("%s..%s: %d records, want the %d of days %s", w.from, w.to, len(recs), want, w.days)
		}
	}
	resp, _ := b.do(t, "GET", "/sim/faults", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
}
