package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// RecipientBreaches returns the breaches ids as recipient stands with them:
// each breach, whether an alert of it was ever addressed to recipient, and
// recipient's acknowledgement of it. Ids without a breach are left out. It
// reads one snapshot, so that the three agree.
func (db *DB) RecipientBreaches(ctx context.Context, recipient string, ids []int64) ([]dvcwatch.RecipientBreach, error) {
	var out []dvcwatch.RecipientBreach
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		out = nil
		err := db.forIDs(ids, func(in string, args []any) error {
			var rows []breachRow
			q := `SELECT ` + breachSelect + ` FROM breaches WHERE id ` + in + ` ORDER BY id`
			if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
				return err
			}
			for i := range rows {
				out = append(out, dvcwatch.RecipientBreach{StoredBreach: rows[i].stored()})
			}
			return nil
		})
		if err != nil || len(out) == 0 {
			return err
		}
		byID := make(map[int64]*dvcwatch.RecipientBreach, len(out))
		found := make([]int64, len(out))
		for i := range out {
			byID[out[i].ID] = &out[i]
			found[i] = out[i].ID
		}
		return db.fromBreaches(found, func(from func(string) string, args []any) error {
			var told []int64
			q := `SELECT DISTINCT t.breach_id FROM ` + from("alerts") + ` AND t.recipient = ?`
			if err := tx.SelectContext(ctx, &told, tx.Rebind(q), append(args, recipient)...); err != nil {
				return fmt.Errorf("read alerts: %w", err)
			}
			for _, id := range told {
				byID[id].Told = true
			}
			var acks []struct {
				BreachID int64   `db:"breach_id"`
				Severity string  `db:"severity"`
				Reason   string  `db:"reason"`
				AckedAt  instant `db:"acked_at"`
			}
			q = `SELECT t.breach_id, t.severity, t.reason, t.acked_at FROM ` + from("breach_acks") + ` AND t.official = ?`
			if err := tx.SelectContext(ctx, &acks, tx.Rebind(q), append(args, recipient)...); err != nil {
				return fmt.Errorf("read acknowledgements: %w", err)
			}
			for _, a := range acks {
				byID[a.BreachID].Ack = dvcwatch.Ack{Severity: dvcwatch.Severity(a.Severity), Reason: a.Reason, At: a.AckedAt.Time}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("breaches of %d ids for %s: %w", len(ids), recipient, err)
	}
	return out, nil
}

// RecordAcks records, in one transaction, official's acknowledgement of
// each breach at the severity given, with reason, at at (see Acknowledge),
// and returns the ids recorded, in order. The caller decided from what it
// read; the write checks it again, so that what changed in between is not
// recorded: a breach resolved or at another severity by now is skipped, and
// one official acknowledged at that severity already keeps that
// acknowledgement (two confirmations racing each other record it once). An
// acknowledgement at another severity is replaced.
func (db *DB) RecordAcks(ctx context.Context, official string, breaches []dvcwatch.BreachRef, reason string, at time.Time) ([]int64, error) {
	var recorded []int64
	q := `INSERT INTO breach_acks (breach_id, official, severity, reason, acked_at)
		SELECT id, ?, severity, ?, ? FROM breaches WHERE id = ? AND severity = ? AND resolved_at IS NULL
		ON CONFLICT (breach_id, official) DO UPDATE SET severity = excluded.severity, reason = excluded.reason,
			acked_at = excluded.acked_at
		WHERE breach_acks.severity <> excluded.severity`
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		recorded = nil
		q := tx.Rebind(q)
		for _, b := range breaches {
			res, err := tx.ExecContext(ctx, q, official, reason, db.timeArg(normTime(at)), b.ID, string(b.Severity))
			if err != nil {
				return fmt.Errorf("breach %d: %w", b.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("breach %d: %w", b.ID, err)
			} else if n > 0 {
				recorded = append(recorded, b.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record acknowledgements of %s: %w", official, err)
	}
	return recorded, nil
}
