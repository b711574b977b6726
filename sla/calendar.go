// Package sla owns the Vietnamese working-day calendar and the legal deadlines of
// administrative dossiers: lunar holidays, announced day swaps, office hours and
// time limits with paused time. It is pure: every instant is passed in and
// nothing is read from the clock.
package sla

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	_ "time/tzdata" // the Asia/Ho_Chi_Minh zone must load on hosts without zoneinfo
)

// MinYear and MaxYear bound the years the calendar answers for; the lunar series and
// the Labor Code rules are not trusted outside them.
const (
	MinYear = 2000
	MaxYear = 2100
)

// ErrYearOutOfRange is returned for a date outside MinYear–MaxYear.
var ErrYearOutOfRange = errors.New("year out of range")

// location loads Asia/Ho_Chi_Minh once; with time/tzdata embedded it cannot fail.
var location = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic("sla: time/tzdata is embedded, yet Asia/Ho_Chi_Minh did not load: " + err.Error())
	}
	return loc
})

// Location returns the Asia/Ho_Chi_Minh time zone in which all dates are taken.
func Location() *time.Location { return location() }

// Kind says why a date departs from the Monday–Friday working week.
type Kind string

// The kinds of calendar entries; only KindWorkingWeekend makes a day a working day.
const (
	KindHoliday        Kind = "holiday"         // a public holiday on a weekday
	KindCompensatory   Kind = "compensatory"    // a weekday off because a holiday fell on a weekend
	KindDayOff         Kind = "day_off"         // an extra weekday off announced by the government
	KindWorkingWeekend Kind = "working_weekend" // a Saturday or Sunday made a working day (a swap)

	// KindWeekend is an ordinary Saturday or Sunday, as a computation's skipped
	// day; calendar files never list it.
	KindWeekend Kind = "weekend"
)

var kinds = []Kind{KindHoliday, KindCompensatory, KindDayOff, KindWorkingWeekend}

// Entry is one exception to the Monday–Friday working week.
type Entry struct {
	Date   time.Time // midnight in Asia/Ho_Chi_Minh
	Name   string    // Vietnamese name with an English gloss
	Kind   Kind
	Source string // document number of the announcement, or "computed default"
}

// Working reports whether the entry's date is a working day.
func (e Entry) Working() bool { return e.Kind == KindWorkingWeekend }

// civilDate is a calendar date without time or zone, used as a map key.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.In(Location()).Date()
	return civilDate{y, m, d}
}

func (d civilDate) time() time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, Location())
}

// addDays normalises through time.Date, so month and year ends roll over;
// the next day within a month's first 28, which day-by-day loops over a
// sweep's dossiers ask for most, is worked out without it.
func (d civilDate) addDays(n int) civilDate {
	if n == 1 && d.day < 28 {
		return civilDate{d.year, d.month, d.day + 1}
	}
	return dateOf(time.Date(d.year, d.month, d.day+n, 12, 0, 0, 0, Location()))
}

// weekday is the date's day of the week, from the date alone (a weekday
// does not depend on the zone, and a sweep asks it of every day it counts).
func (d civilDate) weekday() time.Weekday {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Weekday()
}

func (d civilDate) weekend() bool {
	w := d.weekday()
	return w == time.Saturday || w == time.Sunday
}

func (d civilDate) before(o civilDate) bool {
	if d.year != o.year {
		return d.year < o.year
	}
	if d.month != o.month {
		return d.month < o.month
	}
	return d.day < o.day
}

func (d civilDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// Calendar answers which days are working days: an announced year comes from the
// calendar files, any other year from the Labor Code rules. It is safe for
// concurrent use; each year is worked out once, when first asked for. Build one
// with LoadCalendar or NewCalendar.
type Calendar struct {
	announced map[int][]Entry // years replaced wholesale by an announcement

	mu    sync.Mutex
	years map[int]*yearDays
}

type yearDays struct {
	entries []Entry // sorted by date
	byDate  map[civilDate]Entry
}

func newCalendar(announced map[int][]Entry) *Calendar {
	return &Calendar{announced: announced, years: make(map[int]*yearDays)}
}

// Announced reports whether the year comes from an announcement rather than from
// the computed defaults.
func (c *Calendar) Announced(year int) bool {
	_, ok := c.announced[year]
	return ok
}

func (c *Calendar) year(y int) (*yearDays, error) {
	if y < MinYear || y > MaxYear {
		return nil, fmt.Errorf("calendar year %d: %w (supported %d–%d)", y, ErrYearOutOfRange, MinYear, MaxYear)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if yd, ok := c.years[y]; ok {
		return yd, nil
	}
	entries, ok := c.announced[y]
	if ok {
		entries = append([]Entry(nil), entries...) // sorted below; the file's order stays as read
	} else {
		entries = defaultEntries(y)
	}
	yd := &yearDays{entries: entries, byDate: make(map[civilDate]Entry, len(entries))}
	sort.Slice(yd.entries, func(i, j int) bool { return yd.entries[i].Date.Before(yd.entries[j].Date) })
	for _, e := range entries {
		yd.byDate[dateOf(e.Date)] = e
	}
	c.years[y] = yd
	return yd, nil
}

// Exceptions returns, sorted by date, every weekday off and every working weekend
// day of the year.
func (c *Calendar) Exceptions(year int) ([]Entry, error) {
	yd, err := c.year(year)
	if err != nil {
		return nil, err
	}
	return append([]Entry(nil), yd.entries...), nil
}

// Day returns the exception entry for t's date in Asia/Ho_Chi_Minh, if there is one.
func (c *Calendar) Day(t time.Time) (Entry, bool, error) {
	d := dateOf(t)
	yd, err := c.year(d.year)
	if err != nil {
		return Entry{}, false, err
	}
	e, ok := yd.byDate[d]
	return e, ok, nil
}

// IsWorkingDay reports whether t's date in Asia/Ho_Chi_Minh is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	return c.isWorking(dateOf(t))
}

func (c *Calendar) isWorking(d civilDate) (bool, error) {
	yd, err := c.year(d.year)
	if err != nil {
		return false, err
	}
	if e, ok := yd.byDate[d]; ok {
		return e.Working(), nil
	}
	return !d.weekend(), nil
}
