package notify

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// SilenceStore reads the silences in force.
type SilenceStore interface {
	ActiveSilences(ctx context.Context, at time.Time) ([]dvcwatch.Silence, error)
}

// unsilenced is st as the emails composed at now see it: without the
// pending alerts, and the breaches of the office's summary, that a silence
// active at now matches. Detection plans no alert for a silenced breach,
// but an alert planned before its silence began (held for office hours, or
// planned while a silence was being created) may still be pending: it is
// kept pending rather than dropped, so that it goes out in the first digest
// after the silence ends, unless its breach has resolved by then. The
// silences are read once, at the first read that needs them.
//
// Composing calls it in one line, around the store it reads
// (Service.Notify, Service.Summarize), so that the rendering of digests
// changes without touching it.
func unsilenced(ctx context.Context, st Store, now time.Time) Store {
	return &silencedStore{Store: st, now: now, active: sync.OnceValues(func() ([]dvcwatch.Silence, error) {
		ss, err := st.ActiveSilences(ctx, now)
		if err != nil {
			return nil, fmt.Errorf("read silences: %w", err)
		}
		return ss, nil
	})}
}

type silencedStore struct {
	Store
	now    time.Time
	active func() ([]dvcwatch.Silence, error)
}

// PendingAlerts yields the recipient's pending alerts no active silence
// matches the breach of.
func (s *silencedStore) PendingAlerts(ctx context.Context, recipient string) iter.Seq2[dvcwatch.PendingAlert, error] {
	return unmuted(s, s.Store.PendingAlerts(ctx, recipient), func(a dvcwatch.PendingAlert) dvcwatch.StoredBreach { return a.Breach.StoredBreach })
}

// muted says whether a silence active at s.now matches b.
func (s *silencedStore) muted(b dvcwatch.StoredBreach) (bool, error) {
	silences, err := s.active()
	if err != nil {
		return false, err
	}
	_, muted := dvcwatch.SilencedBy(silences, b, s.now)
	return muted, nil
}

// AgencyBreaches yields the agency's breaches for its summary, but those an
// active silence matches.
func (s *silencedStore) AgencyBreaches(ctx context.Context, agency string, since time.Time) iter.Seq2[dvcwatch.BreachDetail, error] {
	return unmuted(s, s.Store.AgencyBreaches(ctx, agency, since), func(b dvcwatch.BreachDetail) dvcwatch.StoredBreach { return b.StoredBreach })
}

// unmuted yields the xs of seq whose breach no silence active at s.now
// matches, as seq yields them.
func unmuted[T any](s *silencedStore, seq iter.Seq2[T, error], breach func(T) dvcwatch.StoredBreach) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for x, err := range seq {
			if err != nil {
				yield(x, err)
				return
			}
			muted, err := s.muted(breach(x))
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if !muted && !yield(x, nil) {
				return
			}
		}
	}
}
