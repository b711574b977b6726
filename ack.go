package dvcwatch

import "time"

// BreachRef names a breach at the severity it had when a recipient was told
// of it: what an acknowledgement from the mail is bound to.
type BreachRef struct {
	ID       int64
	Severity Severity
}

// Ack is an official's acknowledgement of a breach: it mutes repeats of the
// breach to that official while the breach keeps the severity acknowledged.
type Ack struct {
	Severity Severity
	Reason   string
	At       time.Time // zero: no acknowledgement
}

// RecipientBreach is a breach as one recipient of its alerts stands with it:
// whether an alert of it was ever addressed to them, and their
// acknowledgement of it.
type RecipientBreach struct {
	StoredBreach
	Told bool
	Ack  Ack
}
