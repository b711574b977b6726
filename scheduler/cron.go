package scheduler

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dvcwatch/dvcwatch/config"
)

// Parse parses a cron spec as robfig/cron's standard parser does (five fields or
// a descriptor, with an optional CRON_TZ= prefix), except that "@every D" ticks
// at the multiples of D since the Unix epoch.
func Parse(spec string) (cron.Schedule, error) {
	c, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parse cron %q: %w", spec, err)
	}
	switch c := c.(type) {
	case cron.ConstantDelaySchedule:
		loc := time.UTC
		if zone := config.CronZone(spec); zone != "" {
			loc, _ = time.LoadLocation(zone) // ParseStandard loaded it already
		}
		return every{c.Delay, loc}, nil
	case *cron.SpecSchedule:
		return zoned{c}, nil
	}
	return c, nil
}

// zoned gives the ticks of a cron expression in its own zone, as operators
// read them, whatever zone the time asked about is in.
type zoned struct{ *cron.SpecSchedule }

// Next returns the first tick after t.
func (z zoned) Next(t time.Time) time.Time {
	n := z.SpecSchedule.Next(t)
	if n.IsZero() {
		return n
	}
	return n.In(z.Location)
}

// every ticks at the multiples of d since the Unix epoch, given in loc.
type every struct {
	d   time.Duration
	loc *time.Location
}

// Next returns the first multiple of d after t.
func (e every) Next(t time.Time) time.Time { return e.Prev(t).Add(e.d) }

// Prev returns the last multiple of d at or before t.
func (e every) Prev(t time.Time) time.Time {
	n, d := t.UnixNano(), int64(e.d)
	q := n / d
	if n%d < 0 {
		q--
	}
	return time.Unix(0, q*d).In(e.loc)
}

// Prev returns the last tick of c at or before t, or the zero time if there is
// none in the previous eight years.
func Prev(c cron.Schedule, t time.Time) time.Time {
	if e, ok := c.(every); ok {
		return e.Prev(t)
	}
	// Cron has no previous-tick function: look back over a window doubled until
	// it holds a tick, then walk forward to the last one.
	for w := time.Minute; w < 8*366*24*time.Hour; w *= 2 {
		tick := c.Next(t.Add(-w))
		if tick.IsZero() || tick.After(t) {
			continue
		}
		for {
			n := c.Next(tick)
			if n.IsZero() || n.After(t) {
				return tick
			}
			tick = n
		}
	}
	return time.Time{}
}

// zoneOf is the zone of s's ticks: its timezone, else its CRON_TZ (which New
// defaults to DefaultTimezone when neither is given).
func zoneOf(s config.Schedule) string {
	if s.Timezone != "" {
		return s.Timezone
	}
	if z := config.CronZone(s.Cron); z != "" {
		return z
	}
	return config.DefaultTimezone
}
