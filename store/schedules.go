package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// LastTick returns the latest tick recorded for schedule, in UTC; ok is false
// if the schedule has never recorded one.
func (db *DB) LastTick(ctx context.Context, schedule string) (tick time.Time, ok bool, err error) {
	var t instant
	q := db.db.Rebind(`SELECT last_tick FROM schedule_ticks WHERE schedule = ?`)
	err = db.db.GetContext(ctx, &t, q, schedule)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last tick of schedule %s: %w", schedule, err)
	}
	return t.Time, true, nil
}

// RecordTick records tick, a scheduled instant, as schedule's latest tick unless
// a later one is already recorded: replicas that record the same ticks in any
// order leave the latest.
func (db *DB) RecordTick(ctx context.Context, schedule string, tick time.Time) error {
	if tick.IsZero() {
		return fmt.Errorf("record tick of schedule %s: zero time", schedule)
	}
	const q = `INSERT INTO schedule_ticks (schedule, last_tick, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (schedule) DO UPDATE SET last_tick = excluded.last_tick, updated_at = excluded.updated_at
		WHERE schedule_ticks.last_tick < excluded.last_tick`
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(q), schedule, db.timeArg(normTime(tick)), db.timeArg(normTime(db.now())))
		return err
	})
	if err != nil {
		return fmt.Errorf("record tick %s of schedule %s: %w", tick.UTC().Format(time.RFC3339), schedule, err)
	}
	return nil
}

// TryLease acquires the lease name for holder until ttl from now and reports
// whether holder has it: it is granted when the lease is free or expired, and
// extended when holder already holds it. Exactly one of several holders trying
// at once wins, across processes and engines. Expiry is judged by the store's
// clock (the process's wall clock), so replicas' clocks must agree to well
// within ttl.
func (db *DB) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("lease %s for %s: ttl %v is not positive", name, holder, ttl)
	}
	if holder == "" {
		return false, fmt.Errorf("lease %s: empty holder", name)
	}
	now := normTime(db.now())
	// An update refused by the WHERE affects no row on both engines; the
	// statement is atomic, so concurrent callers see each other's row.
	const q = `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`
	var won bool
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, tx.Rebind(q), name, holder, db.timeArg(now.Add(ttl)), db.timeArg(now))
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		won = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lease %s for %s: %w", name, holder, err)
	}
	return won, nil
}

// ReleaseLease frees the lease name if holder holds it, expired or not, and
// does nothing otherwise: a holder whose lease expired and was taken over
// cannot release its successor's.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %s of %s: %w", name, holder, err)
	}
	return nil
}
