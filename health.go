package dvcwatch

import (
	"errors"
	"time"
)

// ConnectorState is how a connector's syncs have been going.
type ConnectorState string

// Connector states.
const (
	// ConnectorOK: the last sync succeeded, or none has run yet.
	ConnectorOK ConnectorState = "ok"
	// ConnectorFailing: the last syncs failed with an error that retrying may
	// fix (the portal down or busy); scheduled syncs go on.
	ConnectorFailing ConnectorState = "failing"
	// ConnectorStopped: a sync failed with an error that retrying will not fix
	// (credentials rejected, access refused); scheduled syncs and
	// reconciliations are skipped until the connector's configuration changes
	// or a sync run by hand succeeds.
	ConnectorStopped ConnectorState = "stopped"
)

// ConnectorHealth is what every replica knows of a connector's syncs, kept
// in SQL.
type ConnectorHealth struct {
	Connector string
	State     ConnectorState
	// Since is when the state began: the first failure of a failing streak,
	// the permanent failure that stopped the connector, or the first success
	// after either.
	Since       time.Time
	LastSuccess time.Time // zero: never succeeded
	// LastError is the latest failure's message, short (no secret: the
	// connectors never put one in an error), and Cause its cause. While the
	// connector is stopped they are the permanent failure's.
	LastError   string
	LastErrorAt time.Time
	Cause       Cause
	Failures    int // consecutive failed syncs
	// Fingerprint identifies the configuration the connector stopped with: a
	// salted, slow hash of its configuration section, secrets included, never
	// the secrets themselves. Empty unless stopped.
	Fingerprint string
	// Version counts the writes of the row, so that a writer can tell that
	// another one wrote it since it read it.
	Version   int64
	UpdatedAt time.Time
}

// ErrConnectorStopped is wrapped by the error that keeps a scheduled sync or
// reconciliation of a stopped connector from running: the run is recorded as
// skipped, with the error's message as the reason.
var ErrConnectorStopped = errors.New("stopped after a permanent failure")

// ErrNeverSynced is wrapped by the error that keeps a reconciliation from
// running while the mirror or its source of truth has not completed a sync:
// every dossier would look missing from a copy not yet fetched, and the
// office would be told so of each. The run is recorded as skipped.
var ErrNeverSynced = errors.New("has not completed a sync yet")

// DeliveryAttempt is the latest delivery attempt of one email, as the
// outbox keeps it: when it started, and whether the server accepted the
// email or why not.
type DeliveryAttempt struct {
	At    time.Time
	Sent  bool
	Error string // the attempt's error; empty when sent
}

// SMTPState is what the outbox tells of the mail server.
type SMTPState struct {
	// Failing: every one of the Window most recent delivery attempts (at
	// most; fewer when fewer were made) failed with an error worth retrying,
	// the kind a mail server that is down or refusing to relay gives.
	Failing bool
	// Attempts is how many recent attempts were looked at (at most the
	// window), Failed how many of them failed that way.
	Attempts, Failed int
	// LastSent is the last time an email was accepted; zero if never.
	LastSent time.Time
	// LastError is the most recent transient failure's message, and
	// LastErrorAt when that attempt started.
	LastError   string
	LastErrorAt time.Time
}
