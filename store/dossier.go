package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// DossierFile is one dossier with everything recorded about it, read in one
// snapshot: what the admin console's dossier page and dvcwatch dossier show
// tell.
type DossierFile struct {
	// Dossier has its steps, supplements and apologies in Seq order, and its
	// payment waits from the status history, as a detection pass reads it.
	Dossier dvcwatch.Dossier
	// Events is the status history, oldest first.
	Events []dvcwatch.StatusEvent
	// Breaches are the dossier's breaches, open and resolved, by id.
	Breaches []dvcwatch.StoredBreach
	// Acks are the acknowledgements of those breaches, by breach, then
	// official.
	Acks []BreachAck
	// Emails are the emails an alert of one of those breaches went into,
	// newest first, without their bodies.
	Emails []DossierEmail
}

// BreachAck is an official's acknowledgement of a breach.
type BreachAck struct {
	BreachID int64
	Official string
	dvcwatch.Ack
}

// DossierEmail is an email that told of some of a dossier's breaches: the
// notification (without its bodies) and those breaches' ids, in order.
type DossierEmail struct {
	dvcwatch.Notification
	Breaches []int64
}

// notificationHeadSelect reads a notificationRow without the bodies, for
// lists.
var notificationHeadSelect = strings.Replace(notificationSelect, "body_text, body_html", "'' AS body_text, '' AS body_html", 1)

// DossierFile returns the dossier key with everything recorded about it;
// the error wraps dvcwatch.ErrNotFound if there is no such dossier. The
// dossier's children, history, breaches and their alerts are each read by
// key (on PostgreSQL one index probe per key, as detection reads them), the
// emails by their ids.
func (db *DB) DossierFile(ctx context.Context, key dvcwatch.DossierKey) (DossierFile, error) {
	var f DossierFile
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		f = DossierFile{}
		d, err := db.getDossier(ctx, tx, key, true)
		if err != nil {
			return err
		}
		f.Dossier = d
		if f.Events, err = db.dossierEvents(ctx, tx, key); err != nil {
			return err
		}
		err = db.fromDossiers(key.Source, []string{key.Code}, false, func(from func(string, string) string, args []any) error {
			var rows []breachRow
			q := `SELECT ` + prefixColumns("t.", breachSelect) + ` FROM ` + from("breaches", "source") + ` ORDER BY t.id`
			if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("breaches: %w", err)
			}
			for i := range rows {
				f.Breaches = append(f.Breaches, rows[i].stored())
			}
			return nil
		})
		if err != nil || len(f.Breaches) == 0 {
			return err
		}
		return db.breachesTold(ctx, tx, &f)
	})
	if err != nil {
		return DossierFile{}, fmt.Errorf("dossier %s: %w", key, err)
	}
	return f, nil
}

// breachesTold reads the acknowledgements of f's breaches, and the emails
// their alerts went into.
func (db *DB) breachesTold(ctx context.Context, tx *sqlx.Tx, f *DossierFile) error {
	ids := make([]int64, len(f.Breaches))
	for i, b := range f.Breaches {
		ids[i] = b.ID
	}
	told := map[int64][]int64{} // notification → breaches
	err := db.fromBreaches(ids, func(from func(string) string, args []any) error {
		var acks []struct {
			BreachID int64   `db:"breach_id"`
			Official string  `db:"official"`
			Severity string  `db:"severity"`
			Reason   string  `db:"reason"`
			AckedAt  instant `db:"acked_at"`
		}
		q := `SELECT t.breach_id, t.official, t.severity, t.reason, t.acked_at FROM ` + from("breach_acks")
		if err := tx.SelectContext(ctx, &acks, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("acknowledgements: %w", err)
		}
		for _, a := range acks {
			f.Acks = append(f.Acks, BreachAck{BreachID: a.BreachID, Official: a.Official,
				Ack: dvcwatch.Ack{Severity: dvcwatch.Severity(a.Severity), Reason: a.Reason, At: a.AckedAt.Time}})
		}
		var alerts []struct {
			BreachID     int64 `db:"breach_id"`
			Notification int64 `db:"notification_id"`
		}
		q = `SELECT t.breach_id, t.notification_id FROM ` + from("alerts") + ` AND t.notification_id IS NOT NULL`
		if err := tx.SelectContext(ctx, &alerts, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		for _, a := range alerts {
			if !slices.Contains(told[a.Notification], a.BreachID) {
				told[a.Notification] = append(told[a.Notification], a.BreachID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(f.Acks, func(a, b BreachAck) int {
		return cmp.Or(cmp.Compare(a.BreachID, b.BreachID), cmp.Compare(a.Official, b.Official))
	})
	notes := make([]int64, 0, len(told))
	for id := range told {
		notes = append(notes, id)
	}
	slices.Sort(notes)
	err = db.forIDs(notes, func(in string, args []any) error {
		var rows []notificationRow
		q := `SELECT ` + notificationHeadSelect + ` FROM notifications WHERE id ` + in
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("emails: %w", err)
		}
		for i := range rows {
			if err := rows[i].unreadable(); err != nil {
				return fmt.Errorf("email %d: %w", rows[i].ID, err)
			}
			bs := told[rows[i].ID]
			slices.Sort(bs)
			f.Emails = append(f.Emails, DossierEmail{Notification: rows[i].notification(), Breaches: bs})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(f.Emails, func(a, b DossierEmail) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return nil
}

// DossiersByCode returns the dossiers stored under code in every source (the
// one-stop system and the national portal's mirror may both hold it), by
// source, without their children. Each source is probed by the primary key;
// the sources are found by skipping through its first column, which reads
// one index entry per source, with or without statistics.
func (db *DB) DossiersByCode(ctx context.Context, code string) ([]dvcwatch.Dossier, error) {
	var out []dvcwatch.Dossier
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		out = nil
		var sources []string
		q := `WITH RECURSIVE s(source) AS (
				SELECT min(source) FROM dossiers
				UNION ALL
				SELECT (SELECT min(d.source) FROM dossiers d WHERE d.source > s.source) FROM s WHERE s.source IS NOT NULL
			) SELECT source FROM s WHERE source IS NOT NULL`
		if err := tx.SelectContext(ctx, &sources, q); err != nil {
			return fmt.Errorf("sources: %w", err)
		}
		for _, source := range sources {
			var r dossierRow
			q := `SELECT ` + dossierSelect + ` FROM dossiers WHERE source = ? AND code = ?`
			err := tx.GetContext(ctx, &r, tx.Rebind(q), source, code)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, r.dossier())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dossiers with code %q: %w", code, err)
	}
	return out, nil
}
