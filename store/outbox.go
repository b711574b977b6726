package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

type notificationRow struct {
	ID         int64          `db:"id"`
	DedupeKey  string         `db:"dedupe_key"`
	Kind       string         `db:"kind"`
	Recipient  string         `db:"recipient"`
	Email      string         `db:"email"`
	Subject    string         `db:"subject"`
	Text       string         `db:"body_text"`
	HTML       string         `db:"body_html"`
	Items      int            `db:"items"`
	Attempts   int            `db:"attempts"`
	LastError  string         `db:"last_error"`
	CreatedAt  lenientInstant `db:"created_at"`
	EnqueuedAt lenientInstant `db:"enqueued_at"`
	SendingAt  lenientInstant `db:"sending_at"`
	SentAt     lenientInstant `db:"sent_at"`
	FailedAt   lenientInstant `db:"failed_at"`
	AttName    string         `db:"attachment_name"`
	MessageID  string         `db:"message_id"`
}

// lenientInstant is an instant whose scan error is kept rather than
// returned, so that one row with a time that does not parse fails alone,
// not the whole query, and is named by its id.
type lenientInstant struct {
	instant
	err error
}

// Scan implements sql.Scanner.
func (t *lenientInstant) Scan(src any) error {
	t.err = t.instant.Scan(src)
	return nil
}

// unreadable returns why the row could not be read, nil if it could.
func (r *notificationRow) unreadable() error {
	for _, c := range []struct {
		col string
		t   *lenientInstant
	}{{"created_at", &r.CreatedAt}, {"enqueued_at", &r.EnqueuedAt}, {"sending_at", &r.SendingAt}, {"sent_at", &r.SentAt}, {"failed_at", &r.FailedAt}} {
		if c.t.err != nil {
			return fmt.Errorf("%s: %w", c.col, c.t.err)
		}
	}
	return nil
}

func (r *notificationRow) notification() dvcwatch.Notification {
	return dvcwatch.Notification{AttachmentName: r.AttName,
		ID: r.ID, DedupeKey: r.DedupeKey, Kind: dvcwatch.NotificationKind(r.Kind), Recipient: r.Recipient,
		Email: r.Email, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Items: r.Items, Attempts: r.Attempts,
		LastError: r.LastError, CreatedAt: r.CreatedAt.Time, EnqueuedAt: r.EnqueuedAt.Time,
		SendingAt: r.SendingAt.Time, SentAt: r.SentAt.Time, FailedAt: r.FailedAt.Time, MessageID: r.MessageID,
	}
}

const notificationSelect = `id, dedupe_key, kind, recipient, email, subject, body_text, body_html, items, attempts,
	last_error, created_at, enqueued_at, sending_at, sent_at, failed_at, attachment_name, message_id`

type breachDetailRow struct {
	ProcedureName  string `db:"procedure_name"`
	ApplicantName  string `db:"applicant_name"`
	ApplicantPhone string `db:"applicant_phone"`
	breachRow
}

func (r *breachDetailRow) detail() dvcwatch.BreachDetail {
	return dvcwatch.BreachDetail{StoredBreach: r.breachRow.stored(), ProcedureName: r.ProcedureName,
		ApplicantName: r.ApplicantName, ApplicantPhone: r.ApplicantPhone}
}

// breachDetailSelect reads a breachDetailRow from breaches b joined with dossiers d.
var breachDetailSelect = `d.procedure_name, d.applicant_name, d.applicant_phone, ` + prefixColumns("b.", breachSelect)

// AgencyBreaches yields the agency's unresolved breaches and those detected
// at or after since, resolved or not, for the office's summary, in the order
// they were detected. Rows are read as they are yielded: a province's
// agency may hold tens of thousands (breaking out of the loop closes the
// query).
func (db *DB) AgencyBreaches(ctx context.Context, agency string, since time.Time) iter.Seq2[dvcwatch.BreachDetail, error] {
	q := `SELECT ` + breachDetailSelect + ` FROM breaches b JOIN dossiers d ON d.source = b.source AND d.code = b.code
		WHERE b.agency = ? AND (b.resolved_at IS NULL OR b.detected_at >= ?) ORDER BY b.id`
	return streamRows(ctx, db, "breaches of agency "+agency, q, []any{agency, db.timeArg(normTime(since))},
		func(r *breachDetailRow) dvcwatch.BreachDetail { return r.detail() })
}

// streamRows yields the rows of q (written with ? placeholders), each
// scanned into an R and made a T by conv, as the query returns them; what
// names the read in its error. Breaking out of the loop closes the query.
func streamRows[R, T any](ctx context.Context, db *DB, what, q string, args []any, conv func(*R) T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := db.db.QueryxContext(ctx, db.db.Rebind(q), args...)
		if err != nil {
			yield(zero, fmt.Errorf("read %s: %w", what, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r R
			if err := rows.StructScan(&r); err != nil {
				yield(zero, fmt.Errorf("read %s: %w", what, err))
				return
			}
			if !yield(conv(&r), nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, fmt.Errorf("read %s: %w", what, err))
		}
	}
}

// DropResolvedAlerts deletes the alerts not yet put into an email whose
// breach has been resolved since: there is nothing left to tell.
func (tx *Tx) DropResolvedAlerts(ctx context.Context) error {
	q := `DELETE FROM alerts WHERE notification_id IS NULL
		AND breach_id IN (SELECT id FROM breaches WHERE resolved_at IS NOT NULL)`
	if _, err := tx.tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("drop alerts of resolved breaches: %w", err)
	}
	return nil
}

// PendingRecipients lists, in order, the recipients with alerts not yet put
// into an email of breaches still unresolved.
func (db *DB) PendingRecipients(ctx context.Context) ([]string, error) {
	var recipients []string
	q := `SELECT DISTINCT a.recipient FROM alerts a JOIN breaches b ON b.id = a.breach_id
		WHERE a.notification_id IS NULL AND b.resolved_at IS NULL ORDER BY a.recipient`
	if err := db.db.SelectContext(ctx, &recipients, q); err != nil {
		return nil, fmt.Errorf("read pending alerts: %w", err)
	}
	return recipients, nil
}

type pendingAlertRow struct {
	AlertID        int64   `db:"alert_id"`
	Role           string  `db:"role"`
	AlertSeverity  string  `db:"alert_severity"`
	Reason         string  `db:"reason"`
	AlertCreatedAt instant `db:"alert_created_at"`
	breachDetailRow
}

// PendingAlerts yields the recipient's alerts not yet put into an email of
// breaches still unresolved, with their breaches' details, a dossier's
// together: in the order of their dossiers' keys, then in the order they were
// decided. Rows are read as they are yielded, so a digest of a few hundred
// thousand alerts is composed without holding them (breaking out of the loop
// closes the query).
func (db *DB) PendingAlerts(ctx context.Context, recipient string) iter.Seq2[dvcwatch.PendingAlert, error] {
	q := `SELECT a.id AS alert_id, a.role, a.severity AS alert_severity, a.reason,
			a.created_at AS alert_created_at, ` + breachDetailSelect + `
		FROM alerts a JOIN breaches b ON b.id = a.breach_id JOIN dossiers d ON d.source = b.source AND d.code = b.code
		WHERE a.notification_id IS NULL AND a.recipient = ? AND b.resolved_at IS NULL ORDER BY b.source, b.code, a.id`
	return streamRows(ctx, db, "pending alerts of "+recipient, q, []any{recipient}, func(r *pendingAlertRow) dvcwatch.PendingAlert {
		return dvcwatch.PendingAlert{
			ID: r.AlertID, Recipient: recipient, Role: dvcwatch.Role(r.Role),
			Severity: dvcwatch.Severity(r.AlertSeverity), Reason: dvcwatch.AlertReason(r.Reason),
			CreatedAt: r.AlertCreatedAt.Time, Breach: r.detail(),
		}
	})
}

// AssignAlerts records that the alerts ids were told by notification id. It
// assigns only alerts not yet in an email and returns how many it assigned:
// fewer than len(ids) means another composer took some meanwhile.
func (tx *Tx) AssignAlerts(ctx context.Context, ids []int64, notification int64) (int, error) {
	var n int64
	err := tx.db.forIDs(ids, func(in string, args []any) error {
		q := `UPDATE alerts SET notification_id = ? WHERE notification_id IS NULL AND id ` + in
		r, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(q), leading(args, notification)...)
		if err != nil {
			return err
		}
		k, err := r.RowsAffected()
		n += k
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark alerts told: %w", err)
	}
	return int(n), nil
}

// HasNotification says whether a notification with dedupeKey is stored.
func (db *DB) HasNotification(ctx context.Context, dedupeKey string) (bool, error) {
	var n int
	err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT count(*) FROM notifications WHERE dedupe_key = ?`), dedupeKey)
	if err != nil {
		return false, fmt.Errorf("look up notification %s: %w", dedupeKey, err)
	}
	return n > 0, nil
}

// AddNotification stores n unless a notification with its dedupe key exists;
// it returns the id of the one stored, and whether it is new. A new row gets
// its Message-ID here (dvcwatch.NewMessageID), once for all its attempts.
func (db *DB) AddNotification(ctx context.Context, n dvcwatch.NewNotification, now time.Time) (id int64, created bool, err error) {
	err = db.InTx(ctx, func(tx *Tx) error {
		id, created, err = tx.AddNotification(ctx, n, now)
		return err
	})
	return id, created, err
}

// AddNotification is DB.AddNotification inside the transaction.
func (tx *Tx) AddNotification(ctx context.Context, n dvcwatch.NewNotification, now time.Time) (int64, bool, error) {
	if n.DedupeKey == "" || n.Recipient == "" || n.Email == "" {
		return 0, false, fmt.Errorf("store notification: dedupe key, recipient and email are required")
	}
	q := `INSERT INTO notifications (dedupe_key, kind, recipient, email, subject, body_text, body_html, items, created_at,
			attachment_name, attachment_type, attachment, message_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`
	var att dvcwatch.Attachment
	var data []byte // NULL without an attachment
	if n.Attachment != nil {
		att, data = *n.Attachment, n.Attachment.Data
	}
	var id int64
	err := tx.tx.GetContext(ctx, &id, tx.tx.Rebind(q), n.DedupeKey, string(n.Kind), n.Recipient, n.Email, n.Subject, n.Text, n.HTML,
		n.Items, tx.db.timeArg(normTime(now)), att.Name, att.Type, data, dvcwatch.NewMessageID())
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("store notification %s: %w", n.DedupeKey, err)
	}
	if err := tx.tx.GetContext(ctx, &id, tx.tx.Rebind(`SELECT id FROM notifications WHERE dedupe_key = ?`), n.DedupeKey); err != nil {
		return 0, false, fmt.Errorf("store notification %s: %w", n.DedupeKey, err)
	}
	return id, false, nil
}

// LastSent returns as of when the latest notification of kind that reached
// recipient was composed (its created_at: the time of the pass that wrote
// it, the clock its figures were read by); ok is false when none was sent.
func (db *DB) LastSent(ctx context.Context, recipient string, kind dvcwatch.NotificationKind) (at time.Time, ok bool, err error) {
	var t instant
	q := `SELECT max(created_at) FROM notifications WHERE recipient = ? AND kind = ? AND sent_at IS NOT NULL`
	if err := db.db.GetContext(ctx, &t, db.db.Rebind(q), recipient, string(kind)); err != nil {
		return time.Time{}, false, fmt.Errorf("last %s sent to %s: %w", kind, recipient, err)
	}
	return t.Time, !t.IsZero(), nil
}

// Undelivered lists the ids of notifications neither sent nor failed that
// were never enqueued or were last enqueued before enqueuedBefore, oldest
// first. It reads only the ids and the times, not the bodies: the
// dispatcher only enqueues ids, and a page of digests' bodies weighs tens
// of megabytes. Rows it cannot read are left out and named by a
// *dvcwatch.UnreadableNotifications error that comes with the others.
func (db *DB) Undelivered(ctx context.Context, enqueuedBefore time.Time, limit int) ([]int64, error) {
	var rows []notificationRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(db.undeliveredQuery()), db.timeArg(normTime(enqueuedBefore)), limit); err != nil {
		return nil, fmt.Errorf("read undelivered notifications: %w", err)
	}
	return readable(rows, func(r *notificationRow) int64 { return r.ID })
}

// undeliveredQuery reads notifications_undelivered_idx alone (migration
// 00018), in its order. SQLite is told to: there the rows' state lies past
// their bodies, and without statistics its planner prefers
// notifications_state_idx's two equalities, then reads every undelivered
// row and sorts them (measured: a sixth of the delivery pipeline's CPU).
func (db *DB) undeliveredQuery() string {
	from := "notifications"
	if db.dialect.name == DriverSQLite {
		from += " INDEXED BY notifications_undelivered_idx"
	}
	return `SELECT id, created_at, enqueued_at, sending_at, sent_at, failed_at FROM ` + from + `
	WHERE sent_at IS NULL AND failed_at IS NULL AND (enqueued_at IS NULL OR enqueued_at < ?)
	ORDER BY created_at, id LIMIT ?`
}

// GetNotification returns one notification; the error wraps dvcwatch.ErrNotFound.
func (db *DB) GetNotification(ctx context.Context, id int64) (dvcwatch.Notification, error) {
	ns, err := db.notifications(ctx, `SELECT `+notificationSelect+` FROM notifications WHERE id = ?`, id)
	if err != nil {
		return dvcwatch.Notification{}, err
	}
	if len(ns) == 0 {
		return dvcwatch.Notification{}, fmt.Errorf("notification %d: %w", id, dvcwatch.ErrNotFound)
	}
	return ns[0], nil
}

// Notifications lists the most recent notifications, newest first.
func (db *DB) Notifications(ctx context.Context, limit int) ([]dvcwatch.Notification, error) {
	q := `SELECT ` + notificationSelect + ` FROM notifications ORDER BY id DESC LIMIT ?`
	return db.notifications(ctx, q, limit)
}

// notifications reads the rows of q. A row with a time that does not parse
// is left out, and the error, a *dvcwatch.UnreadableNotifications naming
// each one left out, comes with the rows read.
func (db *DB) notifications(ctx context.Context, q string, args ...any) ([]dvcwatch.Notification, error) {
	var rows []notificationRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return readable(rows, (*notificationRow).notification)
}

// readable gives what of each row the caller wants, leaving out the rows
// with a time that does not parse; the error, a
// *dvcwatch.UnreadableNotifications naming each one left out, comes with
// the others.
func readable[T any](rows []notificationRow, want func(*notificationRow) T) ([]T, error) {
	out := make([]T, 0, len(rows))
	var bad []dvcwatch.UnreadableNotification
	for i := range rows {
		if err := rows[i].unreadable(); err != nil {
			bad = append(bad, dvcwatch.UnreadableNotification{ID: rows[i].ID, Err: err})
			continue
		}
		out = append(out, want(&rows[i]))
	}
	if bad != nil {
		return out, &dvcwatch.UnreadableNotifications{Rows: bad}
	}
	return out, nil
}

// MarkEnqueued records that the notifications were handed to the queue.
func (db *DB) MarkEnqueued(ctx context.Context, ids []int64, at time.Time) error {
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		return db.forIDs(ids, func(in string, args []any) error {
			q := `UPDATE notifications SET enqueued_at = ? WHERE id ` + in
			_, err := tx.ExecContext(ctx, tx.Rebind(q), leading(args, db.timeArg(normTime(at)))...)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("mark notifications enqueued: %w", err)
	}
	return nil
}

// ClaimNotification marks an attempt to send notification id as started and
// returns it. The error wraps dvcwatch.ErrAlreadySent if it was sent, dvcwatch.ErrClaimed if
// another attempt claimed it less than stale ago (that attempt may still be
// talking to the mail server), and dvcwatch.ErrNotFound if there is no such row. A
// failed notification can be claimed again: that is an administrator's retry.
//
// The claim is one statement, which also returns the attachment (listings
// leave it out, as it may weigh more than everything else): on PostgreSQL
// it is committed alone, in one round trip. A row claimed there that then
// does not read keeps its claim until it is stale; it could not be sent
// anyway.
func (db *DB) ClaimNotification(ctx context.Context, id int64, now time.Time, stale time.Duration) (dvcwatch.Notification, error) {
	now = normTime(now)
	var n dvcwatch.Notification
	err := db.writeStatements(ctx, func(e sqlx.ExtContext) error {
		var rows []struct {
			notificationRow
			AttType string `db:"attachment_type"`
			AttData []byte `db:"attachment"`
		}
		q := `UPDATE notifications SET sending_at = ?, last_attempt_at = ?, attempts = attempts + 1
			WHERE id = ? AND sent_at IS NULL AND (sending_at IS NULL OR sending_at < ?)
			RETURNING ` + notificationSelect + `, attachment_type, attachment`
		if err := sqlx.SelectContext(ctx, e, &rows, e.Rebind(q), db.timeArg(now), db.timeArg(now), id, db.timeArg(now.Add(-stale))); err != nil {
			return err
		}
		if len(rows) == 1 {
			r := &rows[0]
			if err := r.unreadable(); err != nil {
				return err
			}
			n = r.notification()
			if n.AttachmentName != "" {
				n.Attachment = &dvcwatch.Attachment{Name: n.AttachmentName, Type: r.AttType, Data: r.AttData}
			}
			return nil
		}
		var r notificationRow
		err := sqlx.GetContext(ctx, e, &r, e.Rebind(`SELECT `+notificationSelect+` FROM notifications WHERE id = ?`), id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return dvcwatch.ErrNotFound
		case err != nil:
			return err
		case r.unreadable() != nil:
			return r.unreadable()
		case !r.SentAt.IsZero():
			n = r.notification()
			return dvcwatch.ErrAlreadySent
		default:
			n = r.notification()
			return dvcwatch.ErrClaimed
		}
	})
	if err != nil {
		return n, fmt.Errorf("claim notification %d: %w", id, err)
	}
	return n, nil
}

// MarkSent records a delivered notification, clearing any earlier failure.
func (db *DB) MarkSent(ctx context.Context, id int64, at time.Time) error {
	q := `UPDATE notifications SET sent_at = ?, sending_at = NULL, failed_at = NULL, last_error = '' WHERE id = ?`
	if err := db.writeExec(ctx, q, db.timeArg(normTime(at)), id); err != nil {
		return fmt.Errorf("mark notification %d sent: %w", id, err)
	}
	return nil
}

// MarkAttemptFailed records a failed attempt and releases the claim; final
// marks the notification failed (no more automatic attempts).
func (db *DB) MarkAttemptFailed(ctx context.Context, id int64, at time.Time, reason string, final bool) error {
	q := `UPDATE notifications SET sending_at = NULL, last_error = ?, failed_at = CASE WHEN ? THEN ? ELSE failed_at END
		WHERE id = ? AND sent_at IS NULL`
	if err := db.writeExec(ctx, q, truncate(reason, 1000), final, db.timeArg(normTime(at)), id); err != nil {
		return fmt.Errorf("mark notification %d failed: %w", id, err)
	}
	return nil
}

// NotificationCounts counts notifications by state: pending, sent, failed.
// On SQLite it reads notifications_state_idx only (migration 00016), never
// the rows.
func (db *DB) NotificationCounts(ctx context.Context) (map[string]int, error) {
	var r struct {
		Pending int `db:"pending"`
		Sent    int `db:"sent"`
		Failed  int `db:"failed"`
	}
	if err := db.db.GetContext(ctx, &r, notificationCountsQuery); err != nil {
		return nil, fmt.Errorf("count notifications: %w", err)
	}
	return map[string]int{"pending": r.Pending, "sent": r.Sent, "failed": r.Failed}, nil
}

// notificationCountsQuery is covered by notifications_state_idx
// (TestNotificationCountsReadTheIndex).
const notificationCountsQuery = `SELECT
	coalesce(sum(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS pending,
	coalesce(sum(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent,
	coalesce(sum(CASE WHEN sent_at IS NULL AND failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed
	FROM notifications`

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
