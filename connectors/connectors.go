// Package connectors holds what every portal connector shares: the contract a
// sync pulls dossiers through (Batch, Cursor, Skip) and the errors that say
// whether a failure is worth retrying. One subpackage per portal owns its
// protocol (login, sessions, date windows or pages, retries, rate limits) and
// maps records to the root package's Dossier: dvcqg for the national
// public-service portal, onestop for the provincial one-stop system, and
// portalsim, the simulator both are tested against. None of them knows the
// store or the job queue. The helpers at the end (NewBatch, Problems,
// DecodeReason, Quote) are the record plumbing the connectors share.
package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// After reports whether c comes after o in a portal's (time, key) order.
func (c Cursor) After(o Cursor) bool {
	if !c.UpdatedAt.Equal(o.UpdatedAt) {
		return c.UpdatedAt.After(o.UpdatedAt)
	}
	return c.Key > o.Key
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

// NewBatch maps a page or window of records with decode, which returns the
// dossier or, for a record the sync must skip, the reason (and a dossier whose
// Key.Code is set when the record had one). decode is called once per record,
// in order. Of the copies of one dossier the batch keeps the one updated last
// (the later copy on a tie); dossiers come out ordered by (SourceUpdatedAt,
// Key.Code). Next is left for the caller to set.
func NewBatch(records []json.RawMessage, decode func(json.RawMessage) (dvcwatch.Dossier, string)) Batch {
	var b Batch
	at := map[string]int{}
	for _, raw := range records {
		d, reason := decode(raw)
		if reason != "" {
			b.Skipped = append(b.Skipped, Skip{Code: d.Key.Code, Reason: reason})
			continue
		}
		i, seen := at[d.Key.Code]
		switch {
		case !seen:
			at[d.Key.Code] = len(b.Dossiers)
			b.Dossiers = append(b.Dossiers, d)
		case !d.SourceUpdatedAt.Before(b.Dossiers[i].SourceUpdatedAt):
			b.Dossiers[i] = d
		}
	}
	slices.SortStableFunc(b.Dossiers, func(x, y dvcwatch.Dossier) int {
		if c := x.SourceUpdatedAt.Compare(y.SourceUpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.Key.Code, y.Key.Code)
	})
	return b
}

// Problems collects what is wrong with a record while a connector maps it. A
// problem starts with the field's name and quotes (with Quote) only values
// that are not personal data: the reason is logged.
type Problems struct {
	// Entry names the list entry the fields being read belong to, e.g.
	// " (steps 2)"; it ends every problem added while it is set.
	Entry string
	list  []string
}

// Add records a problem, fmt.Sprintf(format, args...) followed by p.Entry.
func (p *Problems) Add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...)+p.Entry)
}

// Reason is the problems joined with "; ", a Skip's Reason; "" when there
// were none.
func (p *Problems) Reason() string { return strings.Join(p.list, "; ") }

// DecodeReason turns the error of unmarshalling a record into a Skip's
// Reason: the field and the JSON value that has the wrong type, or else that
// the record (what names it: "record", "item") is not valid JSON.
func DecodeReason(what string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s: a JSON %s where %s was expected", te.Field, te.Value, te.Type)
	}
	return what + ": not valid JSON: " + err.Error()
}

// Quote quotes a field's value for a reason, cut to 40 characters and an
// ellipsis: a reason is logged.
func Quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}
