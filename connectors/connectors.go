// Package connectors holds what every portal connector shares: the contract a
// sync pulls dossiers through (Batch, Cursor, Skip) and the errors that say
// whether a failure is worth retrying. One subpackage per portal owns its
// protocol (login, sessions, date windows or pages, retries, rate limits) and
// maps records to the root package's Dossier: dvcqg for the national
// public-service portal, onestop for the provincial one-stop system, and
// portalsim, the simulator both are tested against. None of them knows the
// store or the job queue.
package connectors

import (
	"context"
	"errors"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// Cursor is a position in a portal's change stream: every change at or before
// (UpdatedAt, Key) has been seen. Key is empty for portals that are read in
// date windows (the national portal), where the position is a window's end.
type Cursor struct {
	UpdatedAt time.Time
	Key       string
}

// Skip is a record a connector could not use, with the reason; the sync counts
// and logs it (never with the citizen's personal data) and goes on.
type Skip struct {
	Code   string // MaHoSo when the record had one
	Reason string
}

// Batch is one page or window of a pull: the dossiers it held, the records it
// skipped, and the cursor to resume from once the batch is stored.
type Batch struct {
	Dossiers []dvcwatch.Dossier
	Skipped  []Skip
	Next     Cursor
}

// Puller streams the dossiers a portal changed after a cursor, one batch at a
// time, in the portal's order; it stops at the first error fn returns.
type Puller interface {
	Pull(ctx context.Context, after Cursor, fn func(context.Context, Batch) error) error
}

// Looker looks one dossier up by its code (MaHoSo); found is false when the
// portal does not have it.
type Looker interface {
	Lookup(ctx context.Context, code string) (d dvcwatch.Dossier, found bool, err error)
}

// ErrPermanent marks a failure that trying again will not fix: credentials the
// portal refuses, a request it rejects, an error code the connector does not
// know. The job layer stops retrying when errors.Is(err, ErrPermanent).
var ErrPermanent = errors.New("permanent failure")

// ErrRateLimited marks a failure because the portal kept answering 429 Too Many
// Requests: the portal is up but wants fewer requests, which is no outage.
var ErrRateLimited = errors.New("rate limited by the portal")

// RetryAfter returns how long the portal asked to wait before the next try
// (its Retry-After header), found on err's chain; 0 when it did not say.
func RetryAfter(err error) time.Duration {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter()
	}
	return 0
}
