package store

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// writerGate admits one write transaction of this process at a time on
// SQLite, first come first served. SQLite has one writer anyway, and its
// busy handler is no queue: waiters sleep and poll, so under load a writer
// can lose the race for longer than busy_timeout and fail with SQLITE_BUSY
// (seen in CI with eight concurrent syncs). busy_timeout remains for other
// processes on the same file (a CLI beside serve).
//
// It also counts how it is used (WriterStats): with one writer at a time,
// how long each write holds the gate bounds every writer's rate.
type writerGate struct {
	sem                 *semaphore.Weighted
	writes, wait, holds atomic.Int64 // holds and wait in nanoseconds
}

func newWriterGate() *writerGate { return &writerGate{sem: semaphore.NewWeighted(1)} }

// enter waits for the gate; leave lets the next writer in.
func (g *writerGate) enter(ctx context.Context) (leave func(), err error) {
	start := time.Now()
	if err := g.sem.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	in := time.Now()
	g.wait.Add(int64(in.Sub(start)))
	return func() {
		g.holds.Add(int64(time.Since(in)))
		g.writes.Add(1)
		g.sem.Release(1)
	}, nil
}

// WriterStats says how SQLite's one writer at a time was used since the
// store was opened: write transactions, the time they waited for their
// turn and the time they held it, summed. Zero on PostgreSQL, whose
// writers lock rows, not the database.
type WriterStats struct {
	Writes       int64
	Waited, Held time.Duration
}

// Sub returns what happened between an earlier reading and s.
func (s WriterStats) Sub(earlier WriterStats) WriterStats {
	return WriterStats{Writes: s.Writes - earlier.Writes, Waited: s.Waited - earlier.Waited, Held: s.Held - earlier.Held}
}

// WriterStats reports the writers' gate's use so far; see WriterStats.
func (db *DB) WriterStats() WriterStats {
	g := db.writers
	if g == nil {
		return WriterStats{}
	}
	return WriterStats{Writes: g.writes.Load(), Waited: time.Duration(g.wait.Load()), Held: time.Duration(g.holds.Load())}
}
