// Package lease holds a named lease in the store for the length of a piece of
// work, so that replicas never run the same pass at once: taken at the start,
// renewed while the work runs (the work is cancelled if it is lost), released
// at the end. A crashed holder blocks others for one TTL at most.
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrBusy means another holder has the lease.
var ErrBusy = errors.New("another run holds the lease")

// TTL bounds how long a crashed holder blocks the next one; a live holder
// renews every third of it.
const TTL = 2 * time.Minute

// Store keeps leases; *store.DB is one.
type Store interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Hold takes the lease name for holder and returns a context cancelled if the
// lease is lost, and a release function to call when the work ends. The error
// wraps ErrBusy when someone else holds it.
func Hold(ctx context.Context, st Store, name, holder string, log *slog.Logger) (context.Context, func(), error) {
	ok, err := st.TryLease(ctx, name, holder, TTL)
	if err != nil {
		return nil, nil, fmt.Errorf("take lease %s: %w", name, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("lease %s: %w", name, ErrBusy)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		keep(ctx, st, name, holder, cancel)
	}()
	release := func() {
		cancel(nil)
		<-renewed
		// Release with a fresh context: the work's may be cancelled already.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		if err := st.ReleaseLease(rctx, name, holder); err != nil && log != nil {
			log.Warn("release lease", "lease", name, "err", err)
		}
	}
	return ctx, release, nil
}

// keep renews the lease until ctx ends; losing it cancels the work so that two
// holders never work at once.
func keep(ctx context.Context, st Store, name, holder string, cancel context.CancelCauseFunc) {
	t := time.NewTicker(TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := st.TryLease(ctx, name, holder, TTL)
			if ctx.Err() != nil {
				return
			}
			if err != nil || !ok {
				cancel(fmt.Errorf("lost the lease %s (renewal: ok=%v, err=%v)", name, ok, err))
				return
			}
		}
	}
}
