package main

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/dvcwatch/dvcwatch/sla"
)

// writeComputation prints a due and how it was computed: the first line is
// "due: YYYY-MM-DD HH:MM", one fact a line after it, for people checking a
// promised date by hand.
func writeComputation(w io.Writer, c sla.Computation, h sla.OfficeHours) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	officeTime := !c.Start.IsZero()

	p("due: %s", c.Due.Format(minuteLayout))
	p("received: %s (%s)", c.Received.Format(minuteLayout), c.Received.Weekday())
	p("counting: %s", describeCounting(c))
	p("limit: %s", describeLimit(c, h))
	if officeTime {
		p("counting from: %s (%s)%s", c.Start.Format(minuteLayout), c.Start.Weekday(), receiptMoved(c, h))
		p("office time counted: %s", clock(c.OfficeTime))
	} else {
		p("receipt day: %s, not counted (Civil Code 2015 art. 147)%s", day(c.ReceiptDay), receiptMoved(c, h))
		p("counting from: %s, day 1", day(c.FirstDay))
		last := fmt.Sprintf("last day: %s, day %d", day(c.LastDay), c.Days)
		if c.AddedDays > 0 {
			last += fmt.Sprintf(" (%d + %d added by pauses)", c.Days-c.AddedDays, c.AddedDays)
		}
		p("%s", last)
	}
	for _, s := range c.Skipped {
		line := fmt.Sprintf("skipped (%s): %s %s: %s", skipWhy(s.Skip), day(s.Date), s.Kind, s.Name)
		if s.Source != "" {
			line += " [" + s.Source + "]"
		}
		p("%s", line)
	}
	kind := "office time"
	if c.Limit.Unit == sla.CalendarDays || c.Limit.Unit == sla.Months {
		kind = "calendar time"
	}
	for _, ps := range c.Pauses {
		p("paused: %s .. %s (%s of %s)", ps.Start.Format(minuteLayout), ps.End.Format(minuteLayout), clock(ps.Counted), kind)
	}
	if len(c.Pauses) > 0 {
		if officeTime || c.Counting == sla.CountOfficeHours { // the time itself, not whole days
			p("pauses added: %s of %s", clock(c.Paused), kind)
		} else {
			unit := "working day"
			if kind == "calendar time" {
				unit = "day"
			}
			p("pauses added: %s (%s of %s, rounded up to whole days)", plural(c.AddedDays, unit), clock(c.Paused), kind)
		}
	}
	p("office hours: %s", describeHours(h))
	return bw.Flush()
}

func describeCounting(c sla.Computation) string {
	switch {
	case c.Counting == sla.CountOfficeHours:
		return "office_hours (working days as office time from the receipt)"
	case c.Limit.Unit == sla.WorkingHours:
		return "dates (hours are office time from the receipt in every convention)"
	}
	return "dates (whole days after the receipt day, Civil Code 2015 art. 147-148; due at the close of office)"
}

func describeLimit(c sla.Computation, h sla.OfficeHours) string {
	l := c.Limit
	switch {
	case l.Unit == sla.WorkingHours:
		return fmt.Sprintf("%s (%s of office time)", l, plural(l.Amount, "hour"))
	case l.Unit == sla.WorkingDays && c.Counting == sla.CountOfficeHours:
		return fmt.Sprintf("%s (%s of %s office time)", l, plural(l.Amount, "working day"), clock(h.DayLength()))
	case l.Unit == sla.WorkingDays:
		return fmt.Sprintf("%s (%s after the receipt day)", l, plural(l.Amount, "working day"))
	case l.Unit == sla.CalendarDays:
		return fmt.Sprintf("%s (%s after the receipt day; a last day that is not a working day gives way to the next, art. 148(5))", l, plural(l.Amount, "calendar day"))
	default:
		return fmt.Sprintf("%s (%s, to the same day number or the month's last day, art. 148(3); a last day that is not a working day gives way to the next, art. 148(5))", l, plural(l.Amount, "month"))
	}
}

// receiptMoved says why counting does not start from the day of receipt.
func receiptMoved(c sla.Computation, h sla.OfficeHours) string {
	switch c.ReceiptMoved {
	case sla.ReceiptAfterCutoff:
		return fmt.Sprintf("; received at or after the %s cutoff, so it counts as received the next working day", clock24(h.Cutoff))
	case sla.ReceiptNonWorkingDay:
		return "; received on a non-working day, so it counts as received the next working day"
	}
	return ""
}

func skipWhy(s sla.Skip) string {
	switch s {
	case sla.SkipReceipt:
		return "before the receipt day"
	case sla.SkipPeriodEnd:
		return "last day moved, art. 148(5)"
	}
	return "not counted"
}

// plural counts n things, e.g. "1 working day", "5 working days".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// day formats a date with its weekday, e.g. "2026-04-27 (Monday)".
func day(t time.Time) string { return fmt.Sprintf("%s (%s)", t.Format(time.DateOnly), t.Weekday()) }

// clock formats a duration as hours and minutes, e.g. "33h00m".
func clock(d time.Duration) string {
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// clock24 formats a time of day, e.g. "17:00".
func clock24(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
