// Package clock is the time dvcwatch's long-lived parts judge by, given to
// each once at construction: the wall clock in production, the portal
// simulator's accelerated clock in the demo, a fixed or stepped one in tests.
//
// Only Now is abstracted. Every wait in dvcwatch (tickers, timeouts, leases,
// retry delays) is in wall time whatever the clock says, so a fake-clock
// library with timers and tickers (e.g. jonboulle/clockwork) would offer
// what nothing here may use.
package clock

import "time"

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Wall is the system's clock.
type Wall struct{}

// Now returns time.Now().
func (Wall) Now() time.Time { return time.Now() }

// Func adapts a function to a Clock, e.g. Func(sim.Now).
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// OrWall returns c, or the wall clock when c is nil, so that a zero Options
// struct means real time.
func OrWall(c Clock) Clock {
	if c == nil {
		return Wall{}
	}
	return c
}
