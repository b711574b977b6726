package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestConnectorHealthIsWrittenByOneWriterAtATime: a row is created once,
// read back as written, and updated only by a writer that read its current
// version.
func TestConnectorHealthIsWrittenByOneWriterAtATime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		save := func(h dvcwatch.ConnectorHealth) bool {
			t.Helper()
			var saved bool
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				saved, err = tx.SaveConnectorHealth(ctx, h, t0.Add(time.Hour))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return saved
		}
		if _, ok, err := db.ConnectorHealth(ctx, "onestop"); err != nil || ok {
			t.Fatalf("health of a connector that never synced: %t, %v", ok, err)
		}
		stopped := dvcwatch.ConnectorHealth{Connector: "onestop", State: dvcwatch.ConnectorStopped, Since: t0.In(ict),
			LastSuccess: t0.Add(-time.Hour), LastError: `onestop "onestop": token: bad credentials`, LastErrorAt: t0,
			Cause: dvcwatch.CausePortalCredentials, Failures: 1, Fingerprint: "pbkdf2-sha256$1$c2FsdA$aGFzaA"}
		if !save(stopped) {
			t.Fatal("the first row was not created")
		}
		if save(stopped) {
			t.Error("a second writer that saw no row created it again")
		}
		got, ok, err := db.ConnectorHealth(ctx, "onestop")
		want := stopped
		want.Since, want.LastSuccess, want.LastErrorAt = t0.UTC(), t0.Add(-time.Hour).UTC(), t0.UTC()
		want.Version, want.UpdatedAt = 1, t0.Add(time.Hour).UTC()
		if err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("read back %+v, %t, %v\nwant %+v", got, ok, err, want)
		}

		ok1 := got
		ok1.State, ok1.Since, ok1.Fingerprint, ok1.Failures = dvcwatch.ConnectorOK, t0.Add(2*time.Hour), "", 0
		if !save(ok1) {
			t.Fatal("the writer of the current version could not write")
		}
		if save(ok1) {
			t.Error("a writer of an old version overwrote a newer row")
		}
		all, err := db.ConnectorHealths(ctx)
		if err != nil || len(all) != 1 || all[0].State != dvcwatch.ConnectorOK || all[0].Version != 2 || all[0].Fingerprint != "" {
			t.Errorf("ConnectorHealths = %+v, %v; want the row at version 2", all, err)
		}
	})
}

// TestRecentDeliveryAttempts lists the emails attempted last, newest first,
// without those being sent now, and when one was last accepted.
func TestRecentDeliveryAttempts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if as, last, err := db.RecentDeliveryAttempts(ctx, 3); err != nil || len(as) != 0 || !last.IsZero() {
			t.Fatalf("empty outbox: %v, %v, %v", as, last, err)
		}
		add := func(key string) int64 {
			id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: key, Kind: dvcwatch.NotificationAlerts,
				Recipient: "cb", Email: "cb@x.example", Subject: "s", Text: "t"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		claim := func(id int64, at time.Time) {
			if _, err := db.ClaimNotification(ctx, id, at, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		sent, failed, sending := add("a"), add("b"), add("c")
		add("d") // never attempted
		claim(sent, t0.Add(time.Minute))
		if err := db.MarkSent(ctx, sent, t0.Add(time.Minute+time.Second)); err != nil {
			t.Fatal(err)
		}
		claim(failed, t0.Add(2*time.Minute))
		if err := db.MarkAttemptFailed(ctx, failed, t0.Add(2*time.Minute), "send email <x> via smtp:25: connection refused", false); err != nil {
			t.Fatal(err)
		}
		claim(sending, t0.Add(3*time.Minute))
		as, last, err := db.RecentDeliveryAttempts(ctx, 3)
		want := []dvcwatch.DeliveryAttempt{
			{At: t0.Add(2 * time.Minute).UTC(), Error: "send email <x> via smtp:25: connection refused"},
			{At: t0.Add(time.Minute).UTC(), Sent: true},
		}
		if err != nil || !reflect.DeepEqual(as, want) || !last.Equal(t0.Add(time.Minute+time.Second)) {
			t.Errorf("RecentDeliveryAttempts = %+v, %v, %v\nwant %+v and the sent one's time", as, last, err, want)
		}
	})
}
