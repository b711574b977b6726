package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// clock is a settable time source for store.SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func lastTick(t *testing.T, db *store.DB, schedule string) (time.Time, bool) {
	t.Helper()
	tick, ok, err := db.LastTick(context.Background(), schedule)
	if err != nil {
		t.Fatal(err)
	}
	return tick, ok
}

func TestTicksOnlyMoveForward(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, ok := lastTick(t, db, "sync-dvcqg"); ok {
			t.Fatal("LastTick of a schedule never recorded: ok")
		}
		record := func(tick time.Time) {
			t.Helper()
			if err := db.RecordTick(ctx, "sync-dvcqg", tick); err != nil {
				t.Fatal(err)
			}
		}
		want := func(tick time.Time) {
			t.Helper()
			got, ok := lastTick(t, db, "sync-dvcqg")
			if !ok || !got.Equal(tick) || got.Location() != time.UTC {
				t.Errorf("LastTick = %v, %v; want %v in UTC", got, ok, tick)
			}
		}
		record(t0) // 08:00 ICT: a zone other than UTC is stored as its instant
		want(t0)
		record(t0.Add(time.Hour))
		want(t0.Add(time.Hour))
		record(t0) // an older tick, as from a late replica
		want(t0.Add(time.Hour))
		record(t0.Add(time.Hour)) // the same tick again
		want(t0.Add(time.Hour))
		record(t0.Add(time.Hour + time.Second))
		want(t0.Add(time.Hour + time.Second))

		if _, ok := lastTick(t, db, "detect"); ok {
			t.Error("ticks leak between schedules")
		}
		if err := db.RecordTick(ctx, "detect", time.Time{}); err == nil {
			t.Error("RecordTick(zero time): no error")
		}
	})
}

func TestConcurrentTicksKeepTheLatest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := db.RecordTick(ctx, "detect", t0.Add(time.Duration(i)*time.Minute)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, _ := lastTick(t, db, "detect"); !got.Equal(t0.Add(19 * time.Minute)) {
			t.Errorf("LastTick = %v, want %v", got, t0.Add(19*time.Minute))
		}
	})
}

func TestLeaseIsExclusiveUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const holders = 16
		for round := range 5 {
			name := fmt.Sprintf("connector:dvcqg-%d", round)
			var (
				wins   atomic.Int32
				winner atomic.Value
				start  = make(chan struct{})
				wg     sync.WaitGroup
			)
			for h := range holders {
				wg.Go(func() {
					<-start
					holder := fmt.Sprintf("replica-%d", h)
					ok, err := db.TryLease(ctx, name, holder, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						wins.Add(1)
						winner.Store(holder)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d of %d holders won the lease, want exactly 1", round, n, holders)
			}
			// The winner still holds it: everyone else keeps losing.
			for h := range holders {
				holder := fmt.Sprintf("replica-%d", h)
				ok, err := db.TryLease(ctx, name, holder, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if want := holder == winner.Load(); ok != want {
					t.Errorf("round %d: TryLease by %s after the race = %v, want %v", round, holder, ok, want)
				}
			}
		}
	})
}

func TestLeaseExpiryReentryAndRelease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{now: t0}
		store.SetClock(db, clk.Now)
		try := func(holder string, ttl time.Duration, want bool) {
			t.Helper()
			ok, err := db.TryLease(ctx, "connector:onestop", holder, ttl)
			if err != nil {
				t.Fatal(err)
			}
			if ok != want {
				t.Errorf("at %v TryLease(%s) = %v, want %v", clk.Now().Sub(t0), holder, ok, want)
			}
		}
		release := func(holder string) {
			t.Helper()
			if err := db.ReleaseLease(ctx, "connector:onestop", holder); err != nil {
				t.Fatal(err)
			}
		}

		try("a", time.Minute, true)
		try("b", time.Minute, false)
		clk.Advance(50 * time.Second)
		try("a", time.Minute, true) // re-entry extends to 1m50s
		clk.Advance(30 * time.Second)
		try("b", time.Minute, false) // 1m20s: would have expired without the extension
		release("b")                 // not the holder: a no-op
		try("b", time.Minute, false)
		clk.Advance(30 * time.Second)
		try("b", time.Minute, true) // 1m50s: expired, taken over
		try("a", time.Minute, false)
		release("a") // a's lease was taken over: it cannot release b's
		try("a", time.Minute, false)
		release("b")
		try("a", time.Minute, true) // released: free at once

		if _, err := db.TryLease(ctx, "x", "a", 0); err == nil {
			t.Error("TryLease with ttl 0: no error")
		}
		if _, err := db.TryLease(ctx, "x", "", time.Minute); err == nil {
			t.Error("TryLease with an empty holder: no error")
		}
		if err := db.ReleaseLease(ctx, "never-taken", "a"); err != nil {
			t.Errorf("ReleaseLease of an absent lease: %v", err)
		}
	})
}
