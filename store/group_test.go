package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestGroupCommit: on SQLite, the outbox's stand-alone statements of
// callers arriving while another write holds the gate commit together, in
// one transaction; a member that fails loses its own statements only, one
// whose context ended before its turn runs nothing, and each returns only
// once the group's commit is known.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	var ids []int64
	for _, key := range []string{"sent-a", "sent-b", "claimed", "undone", "given-up"} {
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: key, Kind: dvcwatch.NotificationAlerts,
			Recipient: "binh", Email: "binh@ungtoa.gov.vn", Subject: key, Text: "x"}, hour(0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	release := store.HoldWriters(db)
	before := db.WriterStats()
	boom := errors.New("member fails after its update")
	gaveUp, giveUp := context.WithCancel(ctx)
	calls := []func() error{
		func() error { return db.MarkSent(ctx, ids[0], hour(1)) },
		func() error { return db.MarkSent(ctx, ids[1], hour(1)) },
		func() error { _, err := db.ClaimNotification(ctx, ids[2], hour(1), time.Hour); return err },
		func() error {
			return store.WriteStatements(ctx, db, func(e sqlx.ExtContext) error {
				if _, err := e.ExecContext(ctx, `UPDATE notifications SET last_error = 'written' WHERE id = ?`, ids[3]); err != nil {
					return err
				}
				return boom
			})
		},
		func() error { return db.MarkSent(gaveUp, ids[4], hour(1)) },
		func() error { _, err := db.ClaimNotification(ctx, 1<<40, hour(1), time.Hour); return err },
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		// In turn, so that each joins the group and the cancelled one is
		// among them.
		for deadline := time.Now().Add(5 * time.Second); store.GroupMembers(db) != i+1; {
			if time.Now().After(deadline) {
				t.Fatalf("%d callers in the waiting group, want %d", store.GroupMembers(db), i+1)
			}
			time.Sleep(time.Millisecond)
		}
	}
	giveUp()
	release()
	wg.Wait()

	for i, want := range []error{nil, nil, nil, boom, context.Canceled, dvcwatch.ErrNotFound} {
		if !errors.Is(errs[i], want) || want == nil && errs[i] != nil {
			t.Errorf("caller %d: %v, want %v", i, errs[i], want)
		}
	}
	// The hold, then one transaction for all six.
	if got := db.WriterStats().Sub(before).Writes; got != 2 {
		t.Errorf("%d write transactions, want the hold's and one for the group", got)
	}
	for i, want := range []struct {
		sent     bool
		attempts int
		lastErr  string
	}{{true, 0, ""}, {true, 0, ""}, {false, 1, ""}, {false, 0, ""}, {false, 0, ""}} {
		n, err := db.GetNotification(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if !n.SentAt.IsZero() != want.sent || n.Attempts != want.attempts || n.LastError != want.lastErr {
			t.Errorf("%s: sent %v, attempts %d, last error %q; want %+v", n.DedupeKey, n.SentAt, n.Attempts, n.LastError, want)
		}
	}
}
