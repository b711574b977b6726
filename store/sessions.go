package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// RevokeSession records that the admin UI's session id ended before
// expires, when it would have; the revocations of sessions already expired
// are deleted meanwhile.
func (db *DB) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM revoked_sessions WHERE expires_at < ?`),
			db.timeArg(normTime(db.now()))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO revoked_sessions (id, expires_at) VALUES (?, ?)
			ON CONFLICT (id) DO NOTHING`), id, db.timeArg(normTime(expires)))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// SessionRevoked reports whether the admin UI's session id was revoked.
func (db *DB) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var one int
	err := db.db.GetContext(ctx, &one, db.db.Rebind(`SELECT 1 FROM revoked_sessions WHERE id = ?`), id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("session revoked: %w", err)
	}
	return true, nil
}
