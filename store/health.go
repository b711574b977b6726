package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

type healthRow struct {
	Connector   string  `db:"connector"`
	State       string  `db:"state"`
	Since       instant `db:"since"`
	LastSuccess instant `db:"last_success"`
	LastError   string  `db:"last_error"`
	LastErrorAt instant `db:"last_error_at"`
	Cause       string  `db:"cause"`
	Failures    int     `db:"failures"`
	Fingerprint string  `db:"fingerprint"`
	Version     int64   `db:"version"`
	UpdatedAt   instant `db:"updated_at"`
}

func (r healthRow) health() dvcwatch.ConnectorHealth {
	return dvcwatch.ConnectorHealth{
		Connector: r.Connector, State: dvcwatch.ConnectorState(r.State), Since: r.Since.Time,
		LastSuccess: r.LastSuccess.Time, LastError: r.LastError, LastErrorAt: r.LastErrorAt.Time,
		Cause: dvcwatch.Cause(r.Cause), Failures: r.Failures, Fingerprint: r.Fingerprint, Version: r.Version,
		UpdatedAt: r.UpdatedAt.Time,
	}
}

const healthSelect = `SELECT connector, state, since, last_success, last_error, last_error_at, cause, failures,
	fingerprint, version, updated_at FROM connector_health`

// ConnectorHealths returns the health of every connector that has synced,
// by name.
func (db *DB) ConnectorHealths(ctx context.Context) ([]dvcwatch.ConnectorHealth, error) {
	var rows []healthRow
	if err := db.db.SelectContext(ctx, &rows, healthSelect+` ORDER BY connector`); err != nil {
		return nil, fmt.Errorf("read connector health: %w", err)
	}
	out := make([]dvcwatch.ConnectorHealth, len(rows))
	for i, r := range rows {
		out[i] = r.health()
	}
	return out, nil
}

// ConnectorHealth returns the health of one connector; ok is false if it has
// none recorded (it never synced).
func (db *DB) ConnectorHealth(ctx context.Context, connector string) (h dvcwatch.ConnectorHealth, ok bool, err error) {
	return connectorHealth(ctx, db.db.GetContext, db.db.Rebind, connector)
}

// ConnectorHealth is DB.ConnectorHealth inside the transaction.
func (tx *Tx) ConnectorHealth(ctx context.Context, connector string) (dvcwatch.ConnectorHealth, bool, error) {
	return connectorHealth(ctx, tx.tx.GetContext, tx.tx.Rebind, connector)
}

func connectorHealth(ctx context.Context, get func(context.Context, any, string, ...any) error, rebind func(string) string,
	connector string) (dvcwatch.ConnectorHealth, bool, error) {
	var r healthRow
	err := get(ctx, &r, rebind(healthSelect+` WHERE connector = ?`), connector)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return dvcwatch.ConnectorHealth{}, false, nil
	case err != nil:
		return dvcwatch.ConnectorHealth{}, false, fmt.Errorf("read health of connector %s: %w", connector, err)
	}
	return r.health(), true, nil
}

// SaveConnectorHealth writes h if the stored row is still the one its
// writer read: h.Version is the version read (0: there was no row), and
// the row is stored with the next. It reports false, writing nothing, when
// another writer came first.
func (tx *Tx) SaveConnectorHealth(ctx context.Context, h dvcwatch.ConnectorHealth, now time.Time) (bool, error) {
	t := tx.db.timeArg
	args := []any{string(h.State), t(normTime(h.Since)), t(normTime(h.LastSuccess)), truncate(h.LastError, 1000),
		t(normTime(h.LastErrorAt)), string(h.Cause), h.Failures, h.Fingerprint, h.Version + 1, t(normTime(now)), h.Connector}
	q := `UPDATE connector_health SET state = ?, since = ?, last_success = ?, last_error = ?, last_error_at = ?, cause = ?,
		failures = ?, fingerprint = ?, version = ?, updated_at = ? WHERE connector = ? AND version = ?`
	args = append(args, h.Version)
	if h.Version == 0 {
		q = `INSERT INTO connector_health (state, since, last_success, last_error, last_error_at, cause, failures,
			fingerprint, version, updated_at, connector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (connector) DO NOTHING`
		args = args[:len(args)-1]
	}
	r, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(q), args...)
	if err != nil {
		return false, fmt.Errorf("save health of connector %s: %w", h.Connector, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("save health of connector %s: %w", h.Connector, err)
	}
	return n == 1, nil
}

// RecentDeliveryAttempts returns the latest attempts of the n emails
// attempted last, newest first, leaving out those being sent right now, and
// when the email attempted last of those sent was accepted (zero if none).
func (db *DB) RecentDeliveryAttempts(ctx context.Context, n int) ([]dvcwatch.DeliveryAttempt, time.Time, error) {
	var rows []struct {
		At        instant `db:"last_attempt_at"`
		SentAt    instant `db:"sent_at"`
		LastError string  `db:"last_error"`
	}
	q := `SELECT last_attempt_at, sent_at, last_error FROM notifications
		WHERE last_attempt_at IS NOT NULL AND sending_at IS NULL ORDER BY last_attempt_at DESC, id DESC LIMIT ?`
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(q), n); err != nil {
		return nil, time.Time{}, fmt.Errorf("read recent delivery attempts: %w", err)
	}
	out := make([]dvcwatch.DeliveryAttempt, len(rows))
	for i, r := range rows {
		out[i] = dvcwatch.DeliveryAttempt{At: r.At.Time, Sent: !r.SentAt.IsZero(), Error: r.LastError}
	}
	// The last email sent is the one attempted last that was sent: read down
	// the attempts' index, not across the whole outbox (the admin UI asks
	// every few seconds).
	var last []instant
	q = `SELECT sent_at FROM notifications WHERE last_attempt_at IS NOT NULL AND sent_at IS NOT NULL
		ORDER BY last_attempt_at DESC, id DESC LIMIT 1`
	if err := db.db.SelectContext(ctx, &last, q); err != nil {
		return nil, time.Time{}, fmt.Errorf("read the last email sent: %w", err)
	}
	if len(last) == 0 {
		return out, time.Time{}, nil
	}
	return out, last[0].Time, nil
}
