package portalsim

import (
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/sla"
)

func testClock(t *testing.T) (*clock, *sla.Schedule) {
	t.Helper()
	cal, err := sla.LoadCalendar("")
	if err != nil {
		t.Fatal(err)
	}
	loc := sla.Location()
	c, err := newClock(cal, sla.DefaultOfficeHours(), time.Date(2024, 12, 1, 0, 0, 0, 0, loc), time.Date(2028, 1, 1, 0, 0, 0, 0, loc))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := sla.NewSchedule(cal, sla.DefaultOfficeHours())
	if err != nil {
		t.Fatal(err)
	}
	return c, sched
}

// The simulator computes deadlines with its own integer clock; they must be the
// ones sla computes, holidays, swaps, lunch breaks and pauses included.
func TestClockDeadlineMatchesSLA(t *testing.T) {
	t.Parallel()
	c, sched := testClock(t)
	loc := sla.Location()
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, loc).Unix()
	limits := []string{"1wd", "3wd", "5wd", "15wd", "4h", "8h", "1d", "2d", "15d", "30d"}
	r := newRNG(1, 99, 0)
	for n := 0; n < 4000; n++ {
		// Half the receipts at whole minutes (boundaries are where it breaks), half anywhere.
		recv := from + int64(r.intn(2*365*daySec))
		if n%2 == 0 {
			recv -= recv % 60
		}
		if n%7 == 0 {
			recv -= recv % 1800 // on session edges: 07:30, 11:30, 13:30, 17:00
		}
		lim := mustLimit(limits[r.intn(len(limits))])
		var pauses []span
		var slaPauses []sla.Interval
		at := recv
		for k := r.intn(3); k > 0; k-- {
			a := at + int64(r.intn(10*daySec))
			b := a + int64(r.intn(12*daySec)) + 1
			pauses = append(pauses, span{a, b})
			slaPauses = append(slaPauses, sla.Interval{Start: time.Unix(a, 0), End: time.Unix(b, 0)})
			at = b
		}
		want, err := sched.Deadline(time.Unix(recv, 0), lim, slaPauses)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.deadline(recv, lim, pauses); got != want.Unix() {
			t.Fatalf("received %s, limit %s, pauses %v: deadline %s, sla says %s",
				time.Unix(recv, 0).In(loc), lim, slaPauses, time.Unix(got, 0).In(loc), want)
		}
		if got, want := c.effectiveStart(recv), mustStart(t, sched, recv); got != want {
			t.Fatalf("effective start of %s: %s, sla says %s", time.Unix(recv, 0).In(loc), time.Unix(got, 0).In(loc), time.Unix(want, 0).In(loc))
		}
	}
}

func mustStart(t *testing.T, s *sla.Schedule, recv int64) int64 {
	t.Helper()
	st, err := s.EffectiveStart(time.Unix(recv, 0))
	if err != nil {
		t.Fatal(err)
	}
	return st.Unix()
}

func TestClockPositions(t *testing.T) {
	t.Parallel()
	c, sched := testClock(t)
	loc := sla.Location()
	at := func(y int, m time.Month, d, hh, mm int) int64 { return time.Date(y, m, d, hh, mm, 0, 0, loc).Unix() }
	// Friday 13 Feb 2026 is the last working day before Tết; work resumes Monday 23 Feb.
	p := c.pos(at(2026, 2, 13, 17, 0))
	if got, want := c.at(p), at(2026, 2, 23, 7, 30); got != want {
		t.Errorf("at(close of 13 Feb) = %s, want the morning of 23 Feb", time.Unix(got, 0).In(loc))
	}
	if got, want := c.atEnd(p), at(2026, 2, 13, 17, 0); got != want {
		t.Errorf("atEnd(close of 13 Feb) = %s, want 13 Feb 17:00", time.Unix(got, 0).In(loc))
	}
	if got, want := c.atEnd(c.pos(at(2026, 3, 3, 12, 0))), at(2026, 3, 3, 11, 30); got != want {
		t.Errorf("atEnd(lunch) = %s, want 11:30", time.Unix(got, 0).In(loc))
	}
	// Office time between two instants is sla's working time between them.
	a, b := at(2026, 1, 8, 10, 17), at(2026, 2, 25, 15, 3)
	w, err := sched.WorkingTimeBetween(time.Unix(a, 0), time.Unix(b, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.pos(b) - c.pos(a); got != int64(w/time.Second) {
		t.Errorf("office time %d s, sla says %s", got, w)
	}
	// Every office position inside a session maps back to itself.
	for q := p - 3*c.dayLen; q < p+3*c.dayLen; q += 997 {
		if got := c.pos(c.at(q)); got != q {
			t.Fatalf("pos(at(%d)) = %d", q, got)
		}
	}
}
