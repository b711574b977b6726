package sla

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Schedule is an agency's working time, its calendar and office hours, and the
// convention by which it counts legal time limits. It is safe for concurrent use.
type Schedule struct {
	cal      *Calendar
	hours    OfficeHours
	counting Counting
	fullDay  time.Duration // hours.DayLength(), counted for each whole working day
}

// NewSchedule returns the schedule of an agency that keeps hours on cal and counts
// with CountOfficeHours, the arithmetic of the releases before conventions existed,
// so that its callers keep their results; NewScheduleCounting chooses the convention.
func NewSchedule(cal *Calendar, hours OfficeHours) (*Schedule, error) {
	return NewScheduleCounting(cal, hours, CountOfficeHours)
}

// NewScheduleCounting returns the schedule of an agency that keeps hours on cal and
// counts its limits by counting.
func NewScheduleCounting(cal *Calendar, hours OfficeHours, counting Counting) (*Schedule, error) {
	if cal == nil {
		return nil, errors.New("schedule: nil calendar")
	}
	if err := hours.Validate(); err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	if !counting.Valid() {
		return nil, fmt.Errorf("schedule: %w", counting.errUnknown())
	}
	hours.Sessions = append([]Session(nil), hours.Sessions...) // the caller's slice may change
	return &Schedule{cal: cal, hours: hours, counting: counting, fullDay: hours.DayLength()}, nil
}

// Counting returns the convention by which the schedule counts limits.
func (s *Schedule) Counting() Counting { return s.counting }

// Calendar returns the schedule's calendar.
func (s *Schedule) Calendar() *Calendar { return s.cal }

// Hours returns the schedule's office hours.
func (s *Schedule) Hours() OfficeHours { return s.hours }

// Interval is a span during which a dossier's clock is stopped (statuses 5 and 6).
// End is required: the caller closes a pause still open at the time it computes for.
type Interval struct {
	Start, End time.Time
}

// at returns the instant offset from midnight of d in Asia/Ho_Chi_Minh; Vietnam keeps
// no daylight saving time, so every day is 24 hours long.
func at(d civilDate, offset time.Duration) time.Time { return d.time().Add(offset) }

func sinceMidnight(t time.Time) time.Duration {
	t = t.In(Location())
	return t.Sub(dateOf(t).time())
}

// nextWorkingDay returns the first working day after d.
func (s *Schedule) nextWorkingDay(d civilDate) (civilDate, error) {
	for {
		d = d.addDays(1)
		ok, err := s.cal.isWorking(d)
		if err != nil || ok {
			return d, err
		}
	}
}

// EffectiveStart returns the instant from which a dossier received at received
// counts: that instant during a session; the next session's start if received before
// opening or during a break; the next working day's opening if received at or after
// the cutoff or on a non-working day.
func (s *Schedule) EffectiveStart(received time.Time) (time.Time, error) {
	if received.IsZero() {
		return time.Time{}, errors.New("effective start: zero receipt time")
	}
	d, tod := dateOf(received), sinceMidnight(received)
	working, err := s.cal.isWorking(d)
	if err != nil {
		return time.Time{}, err
	}
	if working && tod < s.hours.Cutoff {
		for _, sess := range s.hours.Sessions {
			if tod < sess.End {
				return at(d, max(tod, sess.Start)), nil
			}
		}
	}
	next, err := s.nextWorkingDay(d)
	if err != nil {
		return time.Time{}, err
	}
	return at(next, s.hours.Sessions[0].Start), nil
}

// advance returns the instant at which work of office time has elapsed from start;
// a result that lands on a session's end stays there rather than moving on to the
// next session's start.
func (s *Schedule) advance(start time.Time, work time.Duration) (time.Time, error) {
	d, tod := dateOf(start), sinceMidnight(start)
	for {
		working, err := s.cal.isWorking(d)
		if err != nil {
			return time.Time{}, err
		}
		if working {
			for _, sess := range s.hours.Sessions {
				if tod >= sess.End {
					continue
				}
				from := max(tod, sess.Start)
				avail := sess.End - from
				if work <= avail {
					return at(d, from+work), nil
				}
				work -= avail
				tod = sess.End
			}
		}
		d, tod = d.addDays(1), 0
	}
}

// WorkingTimeBetween returns the office time on working days from a to b, negative
// when b is before a; e.g. WorkingTimeBetween(due, now) is how late a dossier is.
func (s *Schedule) WorkingTimeBetween(a, b time.Time) (time.Duration, error) {
	if b.Before(a) {
		d, err := s.WorkingTimeBetween(b, a)
		return -d, err
	}
	var total time.Duration
	first, last := dateOf(a), dateOf(b)
	for d := first; !last.before(d); d = d.addDays(1) {
		working, err := s.cal.isWorking(d)
		if err != nil {
			return 0, err
		}
		if !working {
			continue
		}
		if d != first && d != last {
			// A whole day between a's and b's: every session (validated to
			// lie within its day, which in Vietnam's zone, without summer
			// time, lasts 24 hours) counts in full, without working out
			// its times.
			total += s.fullDay
			continue
		}
		for _, sess := range s.hours.Sessions {
			lo, hi := at(d, sess.Start), at(d, sess.End)
			if lo.Before(a) {
				lo = a
			}
			if hi.After(b) {
				hi = b
			}
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
	}
	return total, nil
}

// MergeIntervals returns the intervals sorted by start, with overlapping and
// touching ones merged, so that no paused time is counted twice; ps is not changed.
func MergeIntervals(ps []Interval) []Interval {
	out := append([]Interval(nil), ps...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && !p.Start.After(merged[n-1].End) {
			if p.End.After(merged[n-1].End) {
				merged[n-1].End = p.End
			}
			continue
		}
		merged = append(merged, p)
	}
	return merged
}

// checkPauses reports a pause without an end or ending before it starts.
func checkPauses(pauses []Interval) error {
	for i, p := range pauses {
		if p.Start.IsZero() || p.End.IsZero() {
			return fmt.Errorf("pause %d: start and end are required (close an open pause at the current time)", i)
		}
		if p.End.Before(p.Start) {
			return fmt.Errorf("pause %d: ends at %s, before it starts at %s", i, p.End.Format(time.RFC3339), p.Start.Format(time.RFC3339))
		}
	}
	return nil
}

// clipPauses returns checked pauses merged, with everything before from cut off.
func clipPauses(pauses []Interval, from time.Time) []Interval {
	var out []Interval
	for _, p := range pauses {
		if p.Start.Before(from) {
			p.Start = from
		}
		if p.End.After(p.Start) {
			out = append(out, p)
		}
	}
	return MergeIntervals(out)
}

// Deadline returns when a dossier received at received with the given limit is due,
// in Asia/Ho_Chi_Minh, the clock having stopped during pauses, counted by the
// schedule's convention: Compute's Due, without the explanation. See Counting for
// the rules of each convention.
func (s *Schedule) Deadline(received time.Time, limit Limit, pauses []Interval) (time.Time, error) {
	k := computer{s: s}
	if err := k.run(received, limit, pauses); err != nil {
		return time.Time{}, err
	}
	return k.c.Due, nil
}

// addMonths returns the day corresponding to d n months later, or that month's last
// day when it is shorter.
func addMonths(d civilDate, n int) civilDate {
	first := time.Date(d.year, d.month+time.Month(n), 1, 12, 0, 0, 0, Location())
	lastDay := first.AddDate(0, 1, -1).Day()
	return civilDate{first.Year(), first.Month(), min(d.day, lastDay)}
}

// InOfficeHours reports whether t falls in a working session of a working day.
func (s *Schedule) InOfficeHours(t time.Time) (bool, error) {
	t = t.In(Location())
	ok, err := s.cal.isWorking(dateOf(t))
	if err != nil || !ok {
		return false, err
	}
	off := sinceMidnight(t)
	for _, sess := range s.hours.Sessions {
		if off >= sess.Start && off < sess.End {
			return true, nil
		}
	}
	return false, nil
}

// After returns the first instant at which work of office time has elapsed
// from start (a zero work gives start itself during a session, else the next
// session's start). It is the inverse of WorkingTimeBetween: after it, more
// than work lies between start and any later instant.
func (s *Schedule) After(start time.Time, work time.Duration) (time.Time, error) {
	t, err := s.advance(start, max(work, 0))
	if err != nil {
		return time.Time{}, err
	}
	return t.In(Location()), nil
}

// Before returns the earliest instant t at or before end from which at most
// work of office time remains until end: WorkingTimeBetween(t, end) ≤ work
// from t on, and more before it. A boundary that falls between sessions
// gives the end of the earlier session, where the remaining time first
// reaches work.
func (s *Schedule) Before(end time.Time, work time.Duration) (time.Time, error) {
	work = max(work, 0)
	d, tod := dateOf(end), sinceMidnight(end)
	for range 400 * 100 { // a hundred years of days: past any calendar
		working, err := s.cal.isWorking(d)
		if err != nil {
			return time.Time{}, err
		}
		if working {
			for i := len(s.hours.Sessions) - 1; i >= 0; i-- {
				sess := s.hours.Sessions[i]
				if tod <= sess.Start {
					continue
				}
				to := min(tod, sess.End)
				avail := to - sess.Start
				if work < avail {
					return at(d, to-work).In(Location()), nil
				}
				work -= avail
				tod = sess.Start
			}
		}
		d, tod = d.addDays(-1), 24*time.Hour
	}
	return time.Time{}, fmt.Errorf("before %s: no office time found", end.Format(time.RFC3339))
}
