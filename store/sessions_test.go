package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestRevokeSession: a revoked session is known as such until its expiry
// has passed and another revocation cleans it away; revoking twice is one.
func TestRevokeSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
		store.SetClock(db, func() time.Time { return now })
		revoked := func(id string) bool {
			t.Helper()
			ok, err := db.SessionRevoked(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if revoked("a") {
			t.Error("a session never revoked is")
		}
		for range 2 {
			if err := db.RevokeSession(ctx, "a", now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if !revoked("a") || revoked("b") {
			t.Errorf("revoked a: %t, b: %t; want a alone", revoked("a"), revoked("b"))
		}
		now = now.Add(2 * time.Hour)
		if err := db.RevokeSession(ctx, "b", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if revoked("a") || !revoked("b") {
			t.Errorf("after a's expiry: revoked a: %t, b: %t; want b alone (a's row cleaned)", revoked("a"), revoked("b"))
		}
	})
}
