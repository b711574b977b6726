// Package health keeps what an operator must see of dvcwatch's own failures,
// where every replica sees it: each connector's health in SQL, and the mail
// server's state read from the outbox.
//
// A connector whose sync fails with connectors.ErrPermanent (credentials
// rejected, access refused) is stopped: its scheduled syncs and
// reconciliations are skipped, each recorded as a skipped run with the
// reason, until its configuration changes (the fingerprint of its
// configuration section, secrets included, differs from the one it stopped
// with) or a run by hand succeeds. The configured administrators get one
// email when it stops and one when it recovers, through the outbox, deduped
// by the stop's time. A failure that retrying may fix makes it failing, and
// the next success makes it ok again without an email.
//
// Next decides (pure); Tracker reads, decides, renders the emails and writes
// the decision with them in one transaction, and serves the connectors'
// and the mail server's state to the admin API and the metrics.
package health

import (
	"context"
	"errors"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/lease"
)

// Event is what a sync's outcome did to its connector that people are told.
type Event int

// Events.
const (
	EventNone      Event = iota
	EventStopped         // a permanent failure stopped the connector
	EventRecovered       // a success ended a stop
)

// Outcome is how one sync of a connector ended.
type Outcome struct {
	Err error     // nil: it succeeded
	At  time.Time // when it ended
}

// Ignored reports whether err says nothing of the connector: another pass
// held the lease, the worker is shutting down, or the database (not the
// portal) failed.
func Ignored(err error) bool {
	return errors.Is(err, lease.ErrBusy) || errors.Is(err, context.Canceled) ||
		failure.Of(err) == dvcwatch.CauseDatabase
}

// Next returns the health of a connector after a sync that ended as o, given
// its health before (the zero value when it has none) and, for a permanent
// failure, the fingerprint of the configuration it ran with; changed is false
// when nothing is to be written. While stopped, a failure that retrying may
// fix changes nothing (the stop and its cause stand); a permanent one keeps
// the stop's time (it is the same incident, told once) and takes the new
// fingerprint, so that scheduled runs with this configuration are skipped.
func Next(h dvcwatch.ConnectorHealth, o Outcome, fingerprint string) (next dvcwatch.ConnectorHealth, ev Event, changed bool) {
	if Ignored(o.Err) {
		return h, EventNone, false
	}
	if h.State == "" {
		h.State = dvcwatch.ConnectorOK
	}
	next = h
	switch {
	case o.Err == nil:
		if h.State != dvcwatch.ConnectorOK || h.Since.IsZero() {
			next.Since = o.At
		}
		if h.State == dvcwatch.ConnectorStopped {
			ev = EventRecovered
		}
		next.State, next.LastSuccess, next.Failures, next.Fingerprint = dvcwatch.ConnectorOK, o.At, 0, ""
	case errors.Is(o.Err, connectors.ErrPermanent):
		if h.State != dvcwatch.ConnectorStopped {
			next.Since, ev = o.At, EventStopped
		}
		next.State, next.Fingerprint = dvcwatch.ConnectorStopped, fingerprint
		next.Failures++
		next.LastError, next.LastErrorAt, next.Cause = Short(o.Err.Error()), o.At, failure.Of(o.Err)
	case h.State == dvcwatch.ConnectorStopped:
		return h, EventNone, false
	default:
		if h.State == dvcwatch.ConnectorOK {
			next.Since = o.At
		}
		next.State = dvcwatch.ConnectorFailing
		next.Failures++
		next.LastError, next.LastErrorAt, next.Cause = Short(o.Err.Error()), o.At, failure.Of(o.Err)
	}
	return next, ev, true
}

// SMTPWindow is how many of the latest delivery attempts SMTP looks at.
const SMTPWindow = 3

// SMTP judges the mail server by the latest delivery attempts (newest first,
// at most SMTPWindow) and the last time an email was accepted: it is failing
// when every one of them failed with an error worth retrying (the server
// down, refusing to relay, a TLS or login failure). A rejected recipient is
// the recipient's problem, not the server's, and one good attempt among
// them shows the server works. Attempts, not pending emails, decide: alerts
// held outside office hours are not a mail problem.
func SMTP(attempts []dvcwatch.DeliveryAttempt, lastSent time.Time) dvcwatch.SMTPState {
	if len(attempts) > SMTPWindow {
		attempts = attempts[:SMTPWindow]
	}
	s := dvcwatch.SMTPState{Attempts: len(attempts), LastSent: lastSent}
	for _, a := range attempts {
		if a.Sent || a.Error == "" || failure.OfText(a.Error) == dvcwatch.CauseMailRejected {
			continue
		}
		s.Failed++
		if s.LastError == "" {
			s.LastError, s.LastErrorAt = a.Error, a.At
		}
	}
	s.Failing = s.Attempts > 0 && s.Failed == s.Attempts
	return s
}

// shortError is how many characters of an error the health keeps: enough for
// the connector, the call and the portal's reply, which the connectors cut to
// 200 characters already.
const shortError = 400

// Short cuts an error message to shortError characters.
func Short(msg string) string {
	if r := []rune(msg); len(r) > shortError {
		return string(r[:shortError]) + "…"
	}
	return msg
}
