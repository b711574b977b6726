package sla

import (
	"fmt"
	"strconv"
	"strings"
)

// Unit is the unit of a legal time limit.
type Unit string

// The units in which procedures state their time limits.
const (
	WorkingDays  Unit = "wd" // ngày làm việc, counted as Counting says
	CalendarDays Unit = "d"  // ngày, Civil Code 2015 art. 147–148
	WorkingHours Unit = "h"  // giờ làm việc, counted in office time
	Months       Unit = "m"  // tháng, to the corresponding day of the month
)

// maxLimitAmount keeps every limit far inside the calendar's years and time.Duration.
const maxLimitAmount = 10000

const limitForms = "want a positive whole number and a unit: wd (working days), d (calendar days), h (working hours) or m (months), e.g. 5wd, 15d, 8h, 1m"

// Limit is a procedure's legal time limit, e.g. 5 working days.
type Limit struct {
	Amount int
	Unit   Unit
}

// ParseLimit parses a limit written as a number and a unit, e.g. "5wd", "15d", "8h", "1m".
func ParseLimit(s string) (Limit, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return Limit{}, fmt.Errorf("limit %q: %s", s, limitForms)
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n > maxLimitAmount {
		return Limit{}, fmt.Errorf("limit %q: amount must be at most %d; %s", s, maxLimitAmount, limitForms)
	}
	l := Limit{Amount: n, Unit: Unit(s[i:])}
	if err := l.validate(); err != nil {
		return Limit{}, fmt.Errorf("limit %q: %w", s, err)
	}
	return l, nil
}

func (l Limit) validate() error {
	switch l.Unit {
	case WorkingDays, CalendarDays, WorkingHours, Months:
	default:
		return fmt.Errorf("unknown unit %q; %s", l.Unit, limitForms)
	}
	if l.Amount <= 0 || l.Amount > maxLimitAmount {
		return fmt.Errorf("amount must be 1–%d; %s", maxLimitAmount, limitForms)
	}
	return nil
}

// String formats the limit as ParseLimit reads it, e.g. "5wd".
func (l Limit) String() string { return strconv.Itoa(l.Amount) + string(l.Unit) }

// MarshalText writes the limit as String does, so limits read and write as "5wd" in
// configuration files.
func (l Limit) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses the limit as ParseLimit does.
func (l *Limit) UnmarshalText(b []byte) error {
	parsed, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = parsed
	return nil
}
