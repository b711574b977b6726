package portalsim

import (
	"fmt"
	"slices"
	"time"

	"github.com/dvcwatch/dvcwatch/sla"
)

// Instants inside the simulator are Unix seconds. Asia/Ho_Chi_Minh has kept UTC+7
// without daylight saving since 1975, so a local day is a fixed 86,400 s slice.
const (
	daySec   = 86400
	tzOffset = 7 * 3600
)

// clock does the simulator's office-time arithmetic in integers. Generating a
// million lifecycles through sla.Schedule would cost tens of seconds, so the
// working days are read from the sla calendar once, into a table, and every
// instant is mapped to its "office position": the office seconds elapsed on
// working days since the table's first day. Deadlines computed here are those
// of sla.Schedule.Deadline with the same calendar and office hours; a test
// holds the two to each other.
type clock struct {
	sessions [][2]int64 // office sessions, seconds since midnight
	dayLen   int64      // office seconds in a working day
	cutoff   int64
	closing  int64

	firstDay int64   // local day number (days since 1970-01-01, UTC+7) of the table's first day
	cum      []int32 // cum[d]: working days among table days 0..d-1; len = days+1
	workDays []int32 // table day of the j-th working day
}

func newClock(cal *sla.Calendar, hours sla.OfficeHours, from, to time.Time) (*clock, error) {
	if err := hours.Validate(); err != nil {
		return nil, err
	}
	c := &clock{cutoff: int64(hours.Cutoff / time.Second)}
	for _, s := range hours.Sessions {
		a, b := int64(s.Start/time.Second), int64(s.End/time.Second)
		c.sessions = append(c.sessions, [2]int64{a, b})
		c.dayLen += b - a
	}
	c.closing = c.sessions[len(c.sessions)-1][1]
	if c.cutoff != c.closing {
		// A cutoff before closing makes office positions after it count from the next
		// day, which this table does not model.
		return nil, fmt.Errorf("clock: cutoff %s differs from closing time", hours.Cutoff)
	}
	c.firstDay = localDay(from.Unix())
	last := localDay(to.Unix())
	if last <= c.firstDay {
		return nil, fmt.Errorf("clock: empty range %s..%s", from, to)
	}
	n := int(last - c.firstDay + 1)
	c.cum = make([]int32, n+1)
	for d := 0; d < n; d++ {
		ok, err := cal.IsWorkingDay(time.Unix(dayStart(c.firstDay+int64(d)), 0))
		if err != nil {
			return nil, fmt.Errorf("clock: %w", err)
		}
		c.cum[d+1] = c.cum[d]
		if ok {
			c.cum[d+1]++
			c.workDays = append(c.workDays, int32(d))
		}
	}
	return c, nil
}

// localDay returns the local day number of a Unix instant.
func localDay(unix int64) int64 { return floorDiv(unix+tzOffset, daySec) }

// dayStart returns local midnight of a day number as a Unix instant.
func dayStart(day int64) int64 { return day*daySec - tzOffset }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// lastUnix returns the last instant the table covers.
func (c *clock) lastUnix() int64 {
	return dayStart(c.firstDay+int64(len(c.cum)-1)) - 1
}

// working reports whether the table day d (an offset from firstDay) is a working day.
func (c *clock) working(d int64) bool { return c.cum[d+1] != c.cum[d] }

// tableDay returns the table offset of a Unix instant's day, clamped to the table.
func (c *clock) tableDay(unix int64) int64 {
	return min(max(localDay(unix)-c.firstDay, 0), int64(len(c.cum)-2))
}

// pos returns the office position of a Unix instant: constant outside sessions,
// so an instant after hours has the position of the next opening.
func (c *clock) pos(unix int64) int64 {
	d := localDay(unix) - c.firstDay
	if d < 0 {
		return 0
	}
	if d >= int64(len(c.cum)-1) {
		return int64(c.cum[len(c.cum)-1]) * c.dayLen
	}
	base := int64(c.cum[d]) * c.dayLen
	if !c.working(d) {
		return base
	}
	tod := unix - dayStart(c.firstDay+d)
	var in int64
	for _, s := range c.sessions {
		if tod <= s[0] {
			break
		}
		in += min(tod, s[1]) - s[0]
	}
	return base + in
}

// inSession reports whether the instant lies inside an office session.
func (c *clock) inSession(unix int64) bool {
	d := localDay(unix) - c.firstDay
	if d < 0 || d >= int64(len(c.cum)-1) || !c.working(d) {
		return false
	}
	tod := unix - dayStart(c.firstDay+d)
	for _, s := range c.sessions {
		if tod >= s[0] && tod < s[1] {
			return true
		}
	}
	return false
}

// at returns the instant of an office position. At a boundary between sessions
// (or days) it returns the start of the next session; atEnd returns the end of the
// previous one, which is where sla places a deadline that uses up a session.
func (c *clock) at(p int64) int64 { return c.instant(p, false) }

func (c *clock) atEnd(p int64) int64 { return c.instant(p, true) }

func (c *clock) instant(p int64, end bool) int64 {
	if p < 0 {
		p = 0
	}
	j, o := p/c.dayLen, p%c.dayLen
	if end && o == 0 && j > 0 {
		j, o = j-1, c.dayLen
	}
	if j >= int64(len(c.workDays)) {
		panic(fmt.Sprintf("portalsim: office position %d beyond the calendar table", p))
	}
	base := dayStart(c.firstDay + int64(c.workDays[j]))
	for _, s := range c.sessions {
		l := s[1] - s[0]
		if o < l || (end && o == l) {
			return base + s[0] + o
		}
		o -= l
	}
	return base + c.closing // o == dayLen with end == false cannot happen
}

// effectiveStart mirrors sla.Schedule.EffectiveStart for a cutoff at closing.
func (c *clock) effectiveStart(unix int64) int64 {
	if c.inSession(unix) {
		return unix
	}
	return c.at(c.pos(unix))
}

// workDay returns the index (in workDays) of the working day an instant
// falls on, or of the next one when it falls on another day: the office
// positions of working day j are [j·dayLen, (j+1)·dayLen].
func (c *clock) workDay(unix int64) int64 { return int64(c.cum[c.tableDay(unix)]) }

// nextWorkingDay returns the table day of the first working day after d.
func (c *clock) nextWorkingDay(d int64) int64 {
	j := int64(c.cum[d+1])
	if j >= int64(len(c.workDays)) {
		panic("portalsim: no working day left in the calendar table")
	}
	return int64(c.workDays[j])
}

// span is a paused interval [from, to) in Unix seconds.
type span struct{ from, to int64 }

// deadline mirrors sla.Schedule.Deadline for working days, working hours and
// calendar days.
func (c *clock) deadline(received int64, lim sla.Limit, pauses []span) int64 {
	start := c.effectiveStart(received)
	ps := mergeSpans(pauses, start)
	n := int64(lim.Amount)
	switch lim.Unit {
	case sla.WorkingDays, sla.WorkingHours:
		work := n * 3600
		if lim.Unit == sla.WorkingDays {
			work = n * c.dayLen
		}
		for _, p := range ps {
			work += c.pos(p.to) - c.pos(p.from)
		}
		return c.atEnd(c.pos(start) + work)
	case sla.CalendarDays:
		// Day 1 is the day after the receipt day; paused calendar time from
		// then on, rounded up to whole days, moves the last day, which gives
		// way to the next working day when it is not one (sla's dates rule,
		// used for calendar days whatever the counting).
		first := c.tableDay(start) + 1
		var paused int64
		for _, p := range mergeSpans(pauses, dayStart(c.firstDay+first)) {
			paused += p.to - p.from
		}
		d := first + n - 1 + (paused+daySec-1)/daySec
		if !c.working(d) {
			d = c.nextWorkingDay(d)
		}
		return dayStart(c.firstDay+d) + c.closing
	default:
		panic(fmt.Sprintf("portalsim: limit unit %q is not simulated", lim.Unit))
	}
}

// mergeSpans cuts pauses to start at from at the earliest, sorts and merges them,
// as sla does before adding paused time.
func mergeSpans(in []span, from int64) []span {
	if len(in) == 0 {
		return nil
	}
	out := make([]span, 0, len(in))
	for _, p := range in {
		p.from = max(p.from, from)
		if p.to > p.from {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b span) int { return int(a.from - b.from) })
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && p.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, p.to)
			continue
		}
		merged = append(merged, p)
	}
	return merged
}
