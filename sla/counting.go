package sla

import (
	"fmt"
	"strings"
	"time"
)

// Counting is the convention by which a schedule counts a time limit from a
// dossier's receipt. The conventions differ for working days (and, for pauses, for
// calendar days and months); working hours are office time in both.
//
// CountDates is the legal counting (Civil Code 2015, art. 147–148):
//   - The receipt day is the day the dossier was received, or the next working day
//     when it was received at or after the cut-off or on a non-working day: a
//     dossier is received in office hours, and one arriving later is taken as
//     received on the next working day, as the one-stop systems do. The receipt
//     day is the "day of the event" of art. 147(3) and is not counted.
//   - Working days (wd): day 1 is the first working day after the receipt day,
//     and the due is the close of office on working day N.
//   - Calendar days (d): day 1 is the calendar day after the receipt day (art.
//     147(2)) and day N is the last; months (m) end on the day of the last month
//     that corresponds to the receipt day, or that month's last day when it has
//     none (art. 148(3)). The due is the close of office of the last day, or of
//     the next working day when the last day is not one (art. 148(5)).
//   - Pauses move the due later and never earlier, and the due stays at the close
//     of office: for working days, the office time the pauses cover, rounded up to
//     whole office days (7h30 with the default hours), adds that many working
//     days; for calendar days and months, the calendar time they cover, rounded up
//     to whole days of 24 hours, moves the last day that many days later, before
//     art. 148(5) applies. Paused time on the receipt day, which is not counted,
//     adds nothing.
//
// Art. 148(6) ends the last day of a period at 24:00; the due here is the close of
// office of that day instead, the time the office returns results. Lateness is
// compared by date by default, where the two agree.
//
// CountOfficeHours is the arithmetic of the releases before conventions, kept for
// agencies whose one-stop system counts that way: working days and hours are
// office time from the effective start (the receipt instant, or the next session's
// start), one working day being the office day's length, and each pause adds the
// office time it covers. Calendar days and months count as under CountDates in
// both conventions: the Civil Code fixes them, and the arithmetic of the earlier
// releases (a pause's calendar time added to the due's instant) could put a due
// at 2 a.m. and before the unpaused one.
type Counting string

// The counting conventions.
const (
	CountDates       Counting = "dates"
	CountOfficeHours Counting = "office_hours"
)

// DefaultCounting is the convention of an agency that names none.
const DefaultCounting = CountDates

// Countings returns the conventions, the default first.
func Countings() []Counting { return []Counting{CountDates, CountOfficeHours} }

// Valid reports whether c is one of Countings.
func (c Counting) Valid() bool { return c == CountDates || c == CountOfficeHours }

// ParseCounting returns the convention named s.
func ParseCounting(s string) (Counting, error) {
	c := Counting(s)
	if !c.Valid() {
		return "", c.errUnknown()
	}
	return c, nil
}

func (c Counting) errUnknown() error {
	names := make([]string, 0, 2)
	for _, k := range Countings() {
		names = append(names, string(k))
	}
	return fmt.Errorf("unknown counting %q (want one of: %s)", string(c), strings.Join(names, ", "))
}

// ReceiptMove says why the receipt day is not the date the dossier was received.
type ReceiptMove string

// The reasons a receipt counts on the next working day.
const (
	ReceiptKept          ReceiptMove = ""                // received on a working day before the cut-off
	ReceiptAfterCutoff   ReceiptMove = "after_cutoff"    // received at or after the agency's cut-off
	ReceiptNonWorkingDay ReceiptMove = "non_working_day" // received on a weekend day or a day off
)

// Skip says at which step of a computation a non-working day was passed over.
type Skip string

// The steps at which a computation passes over non-working days.
const (
	SkipReceipt    Skip = "receipt"     // between the receipt and the receipt day it counts on
	SkipNotCounted Skip = "not_counted" // inside a count of working days or office time
	SkipPeriodEnd  Skip = "period_end"  // the period's last day and the days after it, to the next working day (art. 148(5))
)

// SkippedDay is one non-working day a computation passed over.
type SkippedDay struct {
	Date   time.Time // midnight in Asia/Ho_Chi_Minh
	Skip   Skip
	Kind   Kind   // KindWeekend, or the calendar entry's kind
	Name   string // the calendar entry's name; for a weekend the weekday, and a holiday falling on it
	Source string // the calendar entry's source; empty for a weekend
}

// Pause is one stretch of stopped clock as a computation counted it: merged with
// those it overlaps and cut to start no earlier than the count does.
type Pause struct {
	Interval
	// Counted is the office time the pause covers when the limit is counted in
	// office time or working days, else its calendar time.
	Counted time.Duration
}

// Computation is a due and how it was reached: the data behind Deadline's answer,
// for the people who must trust it (the CLI, a dossier's page). Times are in
// Asia/Ho_Chi_Minh; days are midnights.
type Computation struct {
	Received time.Time // as given
	Counting Counting
	Limit    Limit

	ReceiptDay   time.Time   // the day the receipt counts on: the received date, or the next working day
	ReceiptMoved ReceiptMove // why ReceiptDay is not the received date

	// Start is the instant from which office time is counted (working hours,
	// and working days under CountOfficeHours); zero when whole days are counted.
	Start time.Time
	// OfficeTime is the office time counted from Start, pauses included; zero
	// when whole days are counted.
	OfficeTime time.Duration

	FirstDay time.Time // the first counted day; Start's day for office time
	LastDay  time.Time // the last counted day, pauses included, before art. 148(5) moves it; the due's day for office time
	Days     int       // days counted from FirstDay to LastDay: working days for wd, calendar days for d and m; 0 for office time

	Skipped []SkippedDay // every non-working day passed over, in date order

	Pauses    []Pause
	Paused    time.Duration // the sum of the pauses' Counted
	AddedDays int           // whole days the pauses added when whole days are counted

	Due time.Time
}

// Compute returns when a dossier received at received with the given limit is due,
// the clock having stopped during pauses, counted by the schedule's convention, with
// the steps that led there.
func (s *Schedule) Compute(received time.Time, limit Limit, pauses []Interval) (Computation, error) {
	k := computer{s: s, explain: true}
	if err := k.run(received, limit, pauses); err != nil {
		return Computation{}, err
	}
	return k.c, nil
}

// computer carries one computation; explain is false when only the due is wanted,
// so that a detection pass does not look up the names of days it throws away.
type computer struct {
	s       *Schedule
	c       Computation
	explain bool
}

func (k *computer) run(received time.Time, limit Limit, pauses []Interval) error {
	if err := limit.validate(); err != nil {
		return fmt.Errorf("deadline: limit %s: %w", limit, err)
	}
	start, err := k.s.EffectiveStart(received)
	if err != nil {
		return fmt.Errorf("deadline: %w", err)
	}
	if err := checkPauses(pauses); err != nil {
		return fmt.Errorf("deadline: %w", err)
	}
	k.c = Computation{Received: received.In(Location()), Counting: k.s.counting, Limit: limit, ReceiptDay: dateOf(start).time()}
	err = k.receipt(dateOf(received), dateOf(start))
	if err == nil {
		switch {
		case limit.Unit == WorkingHours || (limit.Unit == WorkingDays && k.s.counting == CountOfficeHours):
			err = k.officeTime(start, pauses)
		case limit.Unit == WorkingDays:
			err = k.workingDays(pauses)
		default:
			err = k.calendarDays(pauses)
		}
	}
	if err != nil {
		return fmt.Errorf("deadline: %s from %s: %w", limit, start.Format(time.DateTime), err)
	}
	k.c.Due = k.c.Due.In(Location())
	return nil
}

// receipt records why the receipt counts on day rather than on received, the date
// it was received, and the non-working days in between.
func (k *computer) receipt(received, day civilDate) error {
	if received == day {
		return nil
	}
	working, err := k.s.cal.isWorking(received)
	if err != nil {
		return err
	}
	k.c.ReceiptMoved = ReceiptNonWorkingDay
	if working {
		k.c.ReceiptMoved = ReceiptAfterCutoff
	}
	return k.skipFrom(received, day, SkipReceipt)
}

// officeTime counts the limit as office time from start, each pause adding the
// office time it covers.
func (k *computer) officeTime(start time.Time, pauses []Interval) error {
	s, c := k.s, &k.c
	work := time.Duration(c.Limit.Amount) * time.Hour
	if c.Limit.Unit == WorkingDays {
		work = time.Duration(c.Limit.Amount) * s.hours.DayLength()
	}
	for _, p := range clipPauses(pauses, start) {
		w, err := s.WorkingTimeBetween(p.Start, p.End)
		if err != nil {
			return err
		}
		k.pause(p, w)
		work += w
	}
	due, err := s.advance(start, work)
	if err != nil {
		return err
	}
	c.Start, c.OfficeTime, c.Due = start, work, due
	c.FirstDay, c.LastDay = dateOf(start).time(), dateOf(due).time()
	return k.skipFrom(dateOf(start).addDays(1), dateOf(due), SkipNotCounted)
}

// workingDays is CountDates' working days: working days after the receipt day,
// the pauses adding their office time in whole office days, rounded up.
func (k *computer) workingDays(pauses []Interval) error {
	s, c := k.s, &k.c
	d := dateOf(c.ReceiptDay)
	var paused time.Duration
	for _, p := range clipPauses(pauses, at(d.addDays(1), 0)) {
		w, err := s.WorkingTimeBetween(p.Start, p.End)
		if err != nil {
			return err
		}
		k.pause(p, w)
		paused += w
	}
	c.AddedDays = ceilDays(paused, s.hours.DayLength())
	c.Days = c.Limit.Amount + c.AddedDays
	for counted := 0; counted < c.Days; {
		d = d.addDays(1)
		working, err := s.cal.isWorking(d)
		if err != nil {
			return err
		}
		if !working {
			if err := k.skip(d, SkipNotCounted); err != nil {
				return err
			}
			continue
		}
		if counted++; counted == 1 {
			c.FirstDay = d.time()
		}
	}
	c.LastDay, c.Due = d.time(), at(d, s.hours.closing())
	return nil
}

// calendarDays is CountDates' calendar days and months: from the day after the
// receipt day, the pauses moving the last day by their calendar time in whole
// days, rounded up; a last day that is not a working day gives way to the next
// working day (art. 148(5)).
func (k *computer) calendarDays(pauses []Interval) error {
	c := &k.c
	day := dateOf(c.ReceiptDay)
	first := day.addDays(1)
	var paused time.Duration
	for _, p := range clipPauses(pauses, at(first, 0)) {
		d := p.End.Sub(p.Start)
		k.pause(p, d)
		paused += d
	}
	c.AddedDays = ceilDays(paused, 24*time.Hour)
	last := k.lastDay(day).addDays(c.AddedDays)
	k.days(first, last)
	dueDay, err := k.workingDayFrom(last)
	if err != nil {
		return err
	}
	c.Due = at(dueDay, k.s.hours.closing())
	return nil
}

// lastDay returns the last day of a calendar-day or month limit counted from the
// day after day (art. 147(2), 148(1) and (3)).
func (k *computer) lastDay(day civilDate) civilDate {
	if k.c.Limit.Unit == Months {
		return addMonths(day, k.c.Limit.Amount)
	}
	return day.addDays(k.c.Limit.Amount)
}

// days records a calendar period from first to last.
func (k *computer) days(first, last civilDate) {
	k.c.FirstDay, k.c.LastDay = first.time(), last.time()
	k.c.Days = int(last.time().Sub(first.time()).Round(24*time.Hour)/(24*time.Hour)) + 1
}

// workingDayFrom returns d, or the first working day after it when d is not one,
// recording the days passed over as the period's end (art. 148(5)).
func (k *computer) workingDayFrom(d civilDate) (civilDate, error) {
	for {
		working, err := k.s.cal.isWorking(d)
		if err != nil || working {
			return d, err
		}
		if err := k.skip(d, SkipPeriodEnd); err != nil {
			return d, err
		}
		d = d.addDays(1)
	}
}

func (k *computer) pause(p Interval, counted time.Duration) {
	p.Start, p.End = p.Start.In(Location()), p.End.In(Location())
	k.c.Pauses = append(k.c.Pauses, Pause{Interval: p, Counted: counted})
	k.c.Paused += counted
}

// skipFrom records the non-working days from from up to, not including, to.
func (k *computer) skipFrom(from, to civilDate, why Skip) error {
	if !k.explain {
		return nil
	}
	for d := from; d.before(to); d = d.addDays(1) {
		working, err := k.s.cal.isWorking(d)
		if err != nil {
			return err
		}
		if !working {
			if err := k.skip(d, why); err != nil {
				return err
			}
		}
	}
	return nil
}

// skip records d, a non-working day, with the calendar's name for it.
func (k *computer) skip(d civilDate, why Skip) error {
	if !k.explain {
		return nil
	}
	e, ok, err := k.s.cal.Day(d.time())
	if err != nil {
		return err
	}
	sd := SkippedDay{Date: d.time(), Skip: why, Kind: e.Kind, Name: e.Name, Source: e.Source}
	if !ok {
		sd.Kind, sd.Name = KindWeekend, weekendName(d)
	}
	k.c.Skipped = append(k.c.Skipped, sd)
	return nil
}

// weekendName names a Saturday or Sunday, and the public holiday that falls on
// it, if any, whose compensatory day the calendar lists instead.
func weekendName(d civilDate) string {
	name := "Thứ Bảy – Saturday"
	if d.weekday() == time.Sunday {
		name = "Chủ Nhật – Sunday"
	}
	if h, ok := fixedHoliday(d); ok {
		name += ", " + h.name()
	}
	return name
}

// ceilDays returns how many whole days of length day d takes, rounded up.
func ceilDays(d, day time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + day - 1) / day)
}
