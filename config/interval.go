package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ShortestInterval returns the shortest time between two ticks of a cron
// expression CheckCron accepts: its @every as written, or, for five fields
// or a descriptor, the smallest gap between two times of day it fires at,
// the one from the last time of a day to the first of the next included
// (as if every day fired: the days it skips only make gaps longer).
func ShortestInterval(expr string) (time.Duration, error) {
	sched, err := cron.ParseStandard(expr)
	if err != nil {
		return 0, fmt.Errorf("invalid cron expression %q: %w", expr, err)
	}
	switch s := sched.(type) {
	case cron.ConstantDelaySchedule:
		d := s.Delay
		_, spec, _ := strings.Cut(expr, "@every")
		if written, err := time.ParseDuration(strings.TrimSpace(spec)); err == nil && written < d {
			d = written // robfig/cron runs 1s for what is below a second
		}
		return d, nil
	case *cron.SpecSchedule:
		var times []int // minutes of the day
		for h := range 24 {
			for m := range 60 {
				if s.Hour&(1<<h) != 0 && s.Minute&(1<<m) != 0 {
					times = append(times, h*60+m)
				}
			}
		}
		if len(times) == 0 {
			return 0, fmt.Errorf("invalid cron expression %q: it never fires", expr)
		}
		gap := 24*60 - times[len(times)-1] + times[0]
		for i := 1; i < len(times); i++ {
			gap = min(gap, times[i]-times[i-1])
		}
		return time.Duration(gap) * time.Minute, nil
	}
	return 0, errors.New("unknown kind of cron schedule")
}

// CheckInterval reports whether expr, which CheckCron accepts, waits at
// least min (scheduler.min_interval) between two ticks, with an error that
// quotes it and names the minimum.
func CheckInterval(expr string, min time.Duration) error {
	d, err := ShortestInterval(expr)
	if err != nil {
		return err
	}
	if d < min {
		return fmt.Errorf("cron expression %q fires every %s, more often than scheduler.min_interval (%s) allows",
			expr, shortDuration(d), shortDuration(min))
	}
	return nil
}

// shortDuration writes 1m rather than 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
