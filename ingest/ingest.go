// Package ingest runs one sync pass of one connector: it pulls the dossiers the
// portal changed after the stored cursor (less an overlap, so that records
// written late are read again) and stores each batch with the cursor advanced
// in the same transaction. A pass killed at any point resumes from the last
// stored batch and neither skips nor duplicates anything; the store's content
// hash makes re-read records cost nothing and add no event. A lease in the
// store keeps two passes of the same connector from running at once, whichever
// replica or command started them.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/internal/prefetch"
	"github.com/dvcwatch/dvcwatch/lease"
	"github.com/dvcwatch/dvcwatch/store"
)

// Store is what a sync pass needs of the store.
type Store interface {
	ApplyPage(ctx context.Context, page store.Page) (store.PageResult, error)
	Cursor(ctx context.Context, source string) (store.Cursor, bool, error)
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ErrBusy means another pass of the same connector holds the lease.
var ErrBusy = lease.ErrBusy

// DefaultLookback is how far back a connector's first pass reaches when no
// --since is given: the national portal has no "from the beginning", and
// dossiers untouched for a quarter are closed ones.
const DefaultLookback = 92 * 24 * time.Hour

// Options tune one pass.
type Options struct {
	// Since starts the pass at this time instead of the stored cursor
	// (a backfill); the stored cursor never moves backwards.
	Since time.Time
	// Overlap re-reads this much before the stored cursor.
	Overlap time.Duration
	// Holder names who runs the pass, for the lease (e.g. host and task ID).
	Holder string
	// Clock tells the time of the first pass's lookback (nil: the wall clock).
	Clock  clock.Clock
	Logger *slog.Logger
	// Gate, when set, is asked once the lease is held whether the pass may
	// go ahead; its error ends the pass as it is. Done, when set, is told how
	// the pass ended while the lease is still held. Between them, what Done
	// records is what the next pass's Gate reads, whichever replica runs it
	// (connector health: a pass after a permanent failure is refused).
	Gate func(ctx context.Context) error
	Done func(ctx context.Context, err error)
}

// maxSkipSamples caps the skipped records a Result keeps verbatim.
const maxSkipSamples = 20

// Result counts one pass.
type Result struct {
	Connector string
	Batches   int
	Fetched   int // records the portal returned, skipped ones included
	store.PageResult
	Skipped     map[string]int    // by field or cause (the first word of the reason)
	SkipSamples []connectors.Skip // the first few, verbatim
	Cursor      connectors.Cursor // where the next pass starts (before the overlap)
	// StoreTime is the time spent storing batches; the rest of a pass is
	// spent waiting for the portal.
	StoreTime time.Duration
}

// SkippedTotal is the number of records skipped for any reason.
func (r Result) SkippedTotal() int {
	n := 0
	for _, c := range r.Skipped {
		n += c
	}
	return n
}

// Run performs one pass of the connector named name through p.
func Run(ctx context.Context, st Store, name string, p connectors.Puller, opts Options) (res Result, err error) {
	opts.Clock = clock.OrWall(opts.Clock)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	holder := opts.Holder
	if holder == "" {
		holder = "dvcwatch"
	}
	res = Result{Connector: name, Skipped: map[string]int{}}

	ctx, release, err := lease.Hold(ctx, st, "sync:"+name, holder, log)
	if err != nil {
		return res, fmt.Errorf("sync %s: %w", name, err)
	}
	defer release()
	if opts.Gate != nil {
		if err := opts.Gate(ctx); err != nil {
			return res, err
		}
	}
	if opts.Done != nil {
		defer func() { opts.Done(ctx, err) }() // before the release: defers run last first
	}

	stored, haveCursor, err := st.Cursor(ctx, name)
	if err != nil {
		return res, fmt.Errorf("sync %s: read cursor: %w", name, err)
	}
	high := connectors.Cursor{UpdatedAt: stored.UpdatedAt, Key: stored.Key}
	res.Cursor = high
	var after connectors.Cursor
	switch {
	case !opts.Since.IsZero():
		after = connectors.Cursor{UpdatedAt: opts.Since}
	case haveCursor:
		// Re-read the overlap from the start of its instant: a keyset position
		// inside it would skip records written late with an older time.
		after = connectors.Cursor{UpdatedAt: stored.UpdatedAt.Add(-opts.Overlap)}
	default:
		after = connectors.Cursor{UpdatedAt: opts.Clock.Now().Add(-DefaultLookback)}
	}
	log.Info("sync start", "connector", name, "after", after.UpdatedAt, "cursor", stored.UpdatedAt)

	// A first sync stores mostly new dossiers, and so does a backfill or a
	// pass after a long outage: while the previous page was mostly new, the
	// next one probably is too, and the store takes its cheaper path for that.
	expectNew := !haveCursor
	err = pipeline(ctx, p, after, func(ctx context.Context, b connectors.Batch) error {
		if b.Next.After(high) {
			high = b.Next
		}
		page := store.Page{
			Source:     name,
			Dossiers:   b.Dossiers,
			Cursor:     &store.Cursor{Source: name, UpdatedAt: high.UpdatedAt, Key: high.Key},
			ObservedBy: name,
			ExpectNew:  expectNew,
		}
		t0 := time.Now()
		pr, err := st.ApplyPage(ctx, page)
		res.StoreTime += time.Since(t0)
		if err != nil {
			return err
		}
		res.Batches++
		if len(b.Dossiers) > 0 {
			expectNew = 2*pr.Inserted > len(b.Dossiers)
		}
		res.Fetched += len(b.Dossiers) + len(b.Skipped)
		res.Inserted += pr.Inserted
		res.Updated += pr.Updated
		res.Unchanged += pr.Unchanged
		res.Stale += pr.Stale
		res.Events += pr.Events
		res.Cursor = high
		for _, s := range b.Skipped {
			// The reason names a field and its bad value (a date, a status), the
			// code is the dossier's number: neither is personal data.
			log.Warn("record skipped", "connector", name, "code", s.Code, "reason", s.Reason)
			cause, _, _ := strings.Cut(s.Reason, " ")
			res.Skipped[cause]++
			if len(res.SkipSamples) < maxSkipSamples {
				res.SkipSamples = append(res.SkipSamples, s)
			}
		}
		return nil
	})
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause // the lease was lost: say so rather than "context canceled"
	}
	if err != nil {
		return res, fmt.Errorf("sync %s: %w", name, err)
	}
	log.Info("sync done", "connector", name, "batches", res.Batches, "fetched", res.Fetched,
		"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged,
		"events", res.Events, "skipped", res.SkippedTotal(), "cursor", res.Cursor.UpdatedAt)
	return res, nil
}

// pipeline fetches the next batch while the current one is being stored, so
// that the portal's latency and the database's overlap instead of adding up.
// Batches are stored strictly in order, one at a time; a batch fetched ahead
// and not stored when the pass stops is simply fetched again next time.
func pipeline(ctx context.Context, p connectors.Puller, after connectors.Cursor, store func(context.Context, connectors.Batch) error) error {
	return prefetch.Run(ctx, func(ctx context.Context, yield func(connectors.Batch) error) error {
		return p.Pull(ctx, after, func(_ context.Context, b connectors.Batch) error { return yield(b) })
	}, store)
}
