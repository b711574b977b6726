package sla

import (
	"sort"
	"time"
)

// Lateness is judged by date by default (a dossier finished on its due date is
// on time), so the rules need days, not instants: these helpers count and move
// whole working days of the schedule's calendar, in Asia/Ho_Chi_Minh.

// SameOrEarlierDate reports whether t's date is on or before due's date.
func SameOrEarlierDate(t, due time.Time) bool { return !dateOf(due).before(dateOf(t)) }

// DateOf returns midnight of t's date in Asia/Ho_Chi_Minh.
func DateOf(t time.Time) time.Time { return dateOf(t).time() }

// Closing returns the close of office on t's date.
func (s *Schedule) Closing(t time.Time) time.Time { return at(dateOf(t), s.hours.closing()) }

// WorkingDaysAfter returns how many working days lie after a's date up to and
// including b's date: how late, in working days, something due on a's date
// and done on b's date is; 0 when b's date is not after a's.
func (s *Schedule) WorkingDaysAfter(a, b time.Time) (int, error) {
	n := 0
	last := dateOf(b)
	for d := dateOf(a).addDays(1); !last.before(d); d = d.addDays(1) {
		working, err := s.cal.isWorking(d)
		if err != nil {
			return 0, err
		}
		if working {
			n++
		}
	}
	return n, nil
}

// WorkingDayBefore returns midnight of the last working day before t's date.
func (s *Schedule) WorkingDayBefore(t time.Time) (time.Time, error) {
	d := dateOf(t)
	for {
		d = d.addDays(-1)
		working, err := s.cal.isWorking(d)
		if err != nil || working {
			return d.time(), err
		}
	}
}

// Postpone returns due moved later by the pauses of the clock that begin
// before it (a pause that begins once the due has passed cannot make a late
// dossier on time), each counted from the due it finds: under CountDates the
// office time a pause covers, rounded up to whole office days, adds that many
// working days and the result is the close of office of the last one; under
// CountOfficeHours the office time is added to the instant. Without pauses
// due is returned as it is.
func (s *Schedule) Postpone(due time.Time, pauses []Interval) (time.Time, error) {
	ps := append([]Interval(nil), pauses...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Start.Before(ps[j].Start) })
	for _, p := range ps {
		if !p.End.After(p.Start) || !p.Start.Before(due) {
			continue
		}
		w, err := s.WorkingTimeBetween(p.Start, p.End)
		if err != nil {
			return time.Time{}, err
		}
		if w <= 0 {
			continue
		}
		if s.counting == CountOfficeHours {
			if due, err = s.advance(due, w); err != nil {
				return time.Time{}, err
			}
			continue
		}
		d := dateOf(due)
		for added := ceilDays(w, s.hours.DayLength()); added > 0; {
			d = d.addDays(1)
			working, err := s.cal.isWorking(d)
			if err != nil {
				return time.Time{}, err
			}
			if working {
				added--
			}
		}
		due = at(d, s.hours.closing())
	}
	return due.In(Location()), nil
}

// CountFrom returns when a limit starts to run for a dossier received at
// received: under CountDates the opening of the first working day after the
// receipt day (the receipt day is not counted, Civil Code art. 147), under
// CountOfficeHours the effective start itself.
func (s *Schedule) CountFrom(received time.Time) (time.Time, error) {
	start, err := s.EffectiveStart(received)
	if err != nil || s.counting == CountOfficeHours {
		return start, err
	}
	next, err := s.nextWorkingDay(dateOf(start))
	if err != nil {
		return time.Time{}, err
	}
	return at(next, s.hours.Sessions[0].Start), nil
}
