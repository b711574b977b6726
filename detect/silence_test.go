package detect_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// silenceAgency records a silence of every breach of the simulator's agency
// from start for d, and returns it.
func silenceAgency(t *testing.T, db *store.DB, start time.Time, d time.Duration) dvcwatch.Silence {
	t.Helper()
	ctx := context.Background()
	var agency string
	err := db.ScanDossiers(ctx, dvcwatch.ScanFilter{All: true}, 1, func(p dvcwatch.ScannedPage) error {
		agency = p.Dossiers[0].Agency
		return nil
	})
	if err != nil || agency == "" {
		t.Fatalf("no dossier's agency to silence (err %v)", err)
	}
	s, err := db.AddSilence(ctx, dvcwatch.Silence{Matchers: []dvcwatch.Matcher{dvcwatch.NewMatcher(dvcwatch.LabelAgency, agency)},
		StartsAt: start, EndsAt: start.Add(d), Reason: "Kiểm thử", CreatedBy: "otto", CreatedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// synced returns the services of a simulator of 300 dossiers from seed,
// synced once; mail waits for office hours when officeHoursOnly.
func synced(t *testing.T, db *store.DB, seed int64, officeHoursOnly bool) (*worker.Services, *portalsim.Sim) {
	t.Helper()
	sim := portalsim.New(portalsim.Options{Seed: seed, Dossiers: 300, Start: simStart})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	svc := servicesWith(t, sim, srv.URL, db, officeHoursOnly, false)
	if _, err := svc.Sync(context.Background(), "onestop", ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return svc, sim
}

// pendingAlerts counts the alerts not yet put into an email.
func pendingAlerts(t *testing.T, db *store.DB) int {
	t.Helper()
	ctx := context.Background()
	recipients, err := db.PendingRecipients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recipients {
		for _, err := range db.PendingAlerts(ctx, r) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// TestSilencedThenExpired: while a silence matches every breach, a pass
// records them all and plans and mails nothing; once it is expired, the next
// pass plans the alerts it held back (new to recipients never told) and
// mails them.
func TestSilencedThenExpired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, sim := synced(t, db, 31, false)
		ctx := context.Background()
		now := sim.Now()
		sil := silenceAgency(t, db, now.Add(-time.Minute), 72*time.Hour)

		res, err := svc.Detector.Run(ctx, detect.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if total(res.New) == 0 || res.Silenced == 0 || res.Alerts != 0 || res.Notifications != 0 || res.Counts()["silenced"] != res.Silenced {
			t.Fatalf("pass under the silence: %+v; want breaches recorded, silenced, no alert, no email", res)
		}
		bs, err := db.Breaches(ctx, store.BreachFilter{OpenOnly: true, Limit: 100000})
		if err != nil || len(bs) != total(res.Open) {
			t.Fatalf("%d open breaches listed (err %v), the pass counts %d", len(bs), err, total(res.Open))
		}
		if n := pendingAlerts(t, db); n != 0 {
			t.Errorf("%d alerts pending under the silence", n)
		}

		// Expired: the next pass, a minute later, tells everyone.
		later := now.Add(time.Minute)
		if _, expired, err := db.ExpireSilence(ctx, sil.ID, later, "ada"); err != nil || !expired {
			t.Fatalf("expire: %t, %v", expired, err)
		}
		res, err = svc.Detector.Run(ctx, detect.Options{Now: later})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Full || res.Silenced != 0 || res.Alerts == 0 || res.Notifications == 0 {
			t.Fatalf("pass after the expiry: %+v; want a full sweep (the next checks say nothing of the silence) planning and mailing the held-back alerts", res)
		}
		emails, err := db.Notifications(ctx, 1000)
		if err != nil || len(emails) != res.Notifications {
			t.Errorf("%d emails in the outbox (err %v), the pass made %d", len(emails), err, res.Notifications)
		}
	})
}

// TestSilenceHoldsPendingAlerts: alerts planned before a silence began
// (held for office hours) stay pending while it lasts, and go out in the
// first digest after it ends.
func TestSilenceHoldsPendingAlerts(t *testing.T) {
	db := storetest.SQLite(t)
	svc, sim := synced(t, db, 32, true)
	ctx := context.Background()
	if _, err := sim.Advance(11 * 60); err != nil { // Tuesday 20:00: mail waits for office hours
		t.Fatal(err)
	}
	evening := sim.Now()
	res, err := svc.Detector.Run(ctx, detect.Options{Now: evening})
	if err != nil {
		t.Fatal(err)
	}
	held := pendingAlerts(t, db)
	if res.Alerts == 0 || res.Notifications != 0 || held != res.Alerts {
		t.Fatalf("evening pass: %+v, %d pending; want alerts planned and held", res, held)
	}

	sil := silenceAgency(t, db, evening.Add(time.Hour), 24*time.Hour)
	morning := evening.Add(12*time.Hour + 30*time.Minute) // Wednesday 08:30
	if n, err := svc.Notify.Notify(ctx, morning); err != nil || n != 0 {
		t.Fatalf("digests under the silence: %d, %v; want none", n, err)
	}
	if n := pendingAlerts(t, db); n != held {
		t.Errorf("%d alerts pending under the silence, want the %d held", n, held)
	}
	if n, err := svc.Notify.Summarize(ctx, morning); err != nil || n != 1 {
		t.Errorf("office summary under the silence: %d, %v; want it, without the silenced breaches", n, err)
	}
	emails, err := db.Notifications(ctx, 10)
	if err != nil || len(emails) != 1 || emails[0].Kind != dvcwatch.NotificationSummary || emails[0].Items != 0 {
		t.Errorf("outbox under the silence: %+v, %v; want only a summary listing nothing", emails, err)
	}

	if _, _, err := db.ExpireSilence(ctx, sil.ID, morning, "ada"); err != nil {
		t.Fatal(err)
	}
	n, err := svc.Notify.Notify(ctx, morning)
	if err != nil || n == 0 {
		t.Fatalf("digests after the expiry: %d, %v; want the held alerts mailed", n, err)
	}
	if left := pendingAlerts(t, db); left != 0 {
		t.Errorf("%d alerts still pending after the expiry", left)
	}
}
