package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/dvcwatch/dvcwatch"
)

// SetClock makes db stamp its bookkeeping columns with now instead of the wall
// clock. Call it before the store is used.
func SetClock(db *DB, now func() time.Time) { db.now = now }

// SQLX exposes the pool, for tests that look at what the API does not return.
func SQLX(db *DB) *sqlx.DB { return db.db }

// Bookkeeping returns a stored dossier's first_seen_at and updated_at.
func Bookkeeping(ctx context.Context, db *DB, key dvcwatch.DossierKey) (firstSeen, updated time.Time, err error) {
	var r struct {
		FirstSeen instant `db:"first_seen_at"`
		Updated   instant `db:"updated_at"`
	}
	q := db.db.Rebind(`SELECT first_seen_at, updated_at FROM dossiers WHERE source = ? AND code = ?`)
	err = db.db.GetContext(ctx, &r, q, key.Source, key.Code)
	return r.FirstSeen.Time, r.Updated.Time, err
}

// MigrateDownTo undoes the migrations after version, to test an upgrade
// from it.
func MigrateDownTo(ctx context.Context, db *DB, version int64) error {
	return db.migrate(ctx, func(p *goose.Provider) error {
		_, err := p.DownTo(ctx, version)
		return err
	})
}

// ExplainBreachPage returns the plan of the query BreachPage reads f's page
// with, as the engine ran it (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY
// PLAN's rows on SQLite).
func ExplainBreachPage(ctx context.Context, db *DB, f BreachFilter) (string, error) {
	_, plan, err := db.breachPage(ctx, f, true)
	return plan, err
}

// NextCheckQueries returns the statements of an incremental pass with their
// bind arguments (as many rows as given for SaveNextChecks), for EXPLAIN.
func NextCheckQueries(db *DB, due time.Time, keys []dvcwatch.DossierKey) map[string][]any {
	mark := db.timeArg(changedMark)
	var update []any
	for _, k := range keys {
		update = append(update, k.Source, k.Code, db.timeArg(normTime(due)), db.timeArg(normTime(due)))
	}
	return map[string][]any{
		db.db.Rebind(scanQuery("d.next_check <= ? AND d.source <> ?", "d.next_check, d.source, d.code")): {
			db.dialect.encodeTime(normTime(time.Time{})), "", "", db.timeArg(normTime(due)), "dvcqg", 1000},
		db.db.Rebind(markFindings):                  {mark, db.timeArg(normTime(due)), "dvcqg", mark},
		db.db.Rebind(db.nextCheckUpdate(len(keys))): update,
	}
}

// NotificationCountsQuery is the statement of NotificationCounts, for EXPLAIN.
const NotificationCountsQuery = notificationCountsQuery

// UndeliveredQuery is the statement of Undelivered, for EXPLAIN.
func UndeliveredQuery(db *DB) string { return db.undeliveredQuery() }

// OpenFindingsQueries returns the statements, with their bind arguments,
// that a detection page of codes (a page of a full scan if contiguous)
// reads its open findings against mirror with, for EXPLAIN.
func OpenFindingsQueries(db *DB, source, mirror string, codes []string, contiguous bool) (qs []string, args [][]any) {
	_ = db.fromDossiers(source, codes, contiguous, func(from func(string, string) string, a []any) error {
		qs = append(qs, db.db.Rebind(openFindingsQuery(from)))
		args = append(args, append(a[:len(a):len(a)], mirror))
		return nil
	})
	return qs, args
}

// HoldWriters takes SQLite's writers' gate until release, so that the
// writers arriving meanwhile queue (and writeStatements's callers group).
func HoldWriters(db *DB) (release func()) {
	leave, err := db.writers.enter(context.Background())
	if err != nil {
		panic(err)
	}
	return leave
}

// GroupMembers is how many callers the group waiting for the gate holds.
func GroupMembers(db *DB) int {
	db.groups.mu.Lock()
	defer db.groups.mu.Unlock()
	if db.groups.open == nil {
		return 0
	}
	return len(db.groups.open.members)
}

// WriteStatements is writeStatements.
func WriteStatements(ctx context.Context, db *DB, fn func(e sqlx.ExtContext) error) error {
	return db.writeStatements(ctx, fn)
}
