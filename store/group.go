package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// SQLite commits one write transaction at a time, and each commit syncs
// the write-ahead log to disk: on the delivery pipeline's outbox (a claim
// and a mark sent per email, from several workers at once) the sync was
// most of each write's hold on the writers' gate. So writeStatements,
// whose statements each stand alone, commits together what several callers
// bring while one commit is under way: the first of them leads, waits for
// the gate while others join, then runs every member's statements in one
// transaction, each member in a savepoint of its own (its error undoes its
// own statements only), and commits once. This is the group commit of
// PostgreSQL's commit_delay and of most databases' logs, at the one place
// in dvcwatch where many small writes meet. Every member returns only
// once the group's commit did: a failed commit fails each of them, so no
// caller believes a write that did not happen.

// maxGroup caps the members of one commit: a group waits for its whole
// statements to run.
const maxGroup = 64

// commitGroup is the statements of callers committed together.
type commitGroup struct {
	members []groupMember
	done    chan struct{} // closed once the group is committed or failed
	err     error         // of BEGIN or COMMIT: every member's
}

type groupMember struct {
	ctx context.Context
	fn  func(e sqlx.ExtContext) error
	err error
}

// groups is the group that callers join while its leader waits for the gate.
type groups struct {
	mu   sync.Mutex
	open *commitGroup
}

// groupStatements runs fn with the statements of other callers arriving
// meanwhile, in one transaction; see the comment at the top of the file.
func (db *DB) groupStatements(ctx context.Context, fn func(e sqlx.ExtContext) error) error {
	db.groups.mu.Lock()
	g, lead := db.groups.open, false
	if g == nil || len(g.members) == maxGroup {
		g, lead = &commitGroup{done: make(chan struct{})}, true
		db.groups.open = g
	}
	i := len(g.members)
	g.members = append(g.members, groupMember{ctx: ctx, fn: fn})
	db.groups.mu.Unlock()
	if lead {
		db.commit(g)
	}
	// Not cut short by ctx: the leader may be running fn, and fn's effect
	// is known only once the group committed.
	<-g.done
	if err := g.members[i].err; err != nil {
		return err // a lone member's error is also g.err
	}
	return g.err
}

// commit runs group g's members in one write transaction (writeTx: the
// writers' gate, BEGIN IMMEDIATE, COMMIT). Neither the gate's wait nor the
// transaction ends with one member's context: the others' writes depend on
// them. A lone member's error rolls the transaction back, as writeTx does
// for any caller; in a group each member has its savepoint.
func (db *DB) commit(g *commitGroup) {
	defer close(g.done)
	g.err = db.writeTx(context.Background(), func(tx *sqlx.Tx) error {
		db.groups.mu.Lock()
		if db.groups.open == g {
			db.groups.open = nil // in the gate: the members are known from here on
		}
		db.groups.mu.Unlock()
		if len(g.members) == 1 {
			m := &g.members[0]
			m.err = m.fn(tx)
			return m.err
		}
		for i := range g.members {
			if err := g.run(tx, &g.members[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// run runs member m in a savepoint of tx, undone if m fails; the error is
// the savepoint's own, which fails the group.
func (g *commitGroup) run(tx *sqlx.Tx, m *groupMember) error {
	if m.err = m.ctx.Err(); m.err != nil {
		return nil // given up on before its turn: nothing of it runs
	}
	if _, err := tx.Exec(`SAVEPOINT member`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if m.err = m.fn(tx); m.err != nil {
		if _, err := tx.Exec(`ROLLBACK TO member`); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
	}
	if _, err := tx.Exec(`RELEASE member`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}
