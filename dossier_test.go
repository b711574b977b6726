package dvcwatch

import "testing"

func TestStatusClock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status Status
		clock  Clock
		open   bool
	}{
		{StatusSubmitted, ClockNotStarted, true},
		{StatusReceived, ClockRunning, true},
		{StatusRefused, ClockTerminal, false},
		{StatusInProgress, ClockRunning, true},
		{StatusAwaitingSupplement, ClockPaused, true},
		{StatusAwaitingPayment, ClockPaused, true},
		{StatusWithdrawn, ClockTerminal, false},
		{StatusStopped, ClockTerminal, false},
		{StatusProcessed, ClockStopped, false},
		{StatusReturned, ClockTerminal, false},
	}
	for _, c := range cases {
		if !c.status.Valid() || c.status.Clock() != c.clock || c.status.Open() != c.open {
			t.Errorf("status %d: valid %v, clock %q, open %v; want valid, %q, %v",
				c.status, c.status.Valid(), c.status.Clock(), c.status.Open(), c.clock, c.open)
		}
	}
	for _, s := range []Status{0, 11, -1} {
		if s.Valid() || s.Clock() != "" || s.Open() {
			t.Errorf("status %d must be invalid with no clock", s)
		}
	}
	if got := StatusAwaitingSupplement.Vietnamese(); got != "Yêu cầu bổ sung giấy tờ" {
		t.Errorf("Vietnamese() = %q", got)
	}
}
