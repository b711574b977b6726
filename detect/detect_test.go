package detect_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/breach"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// simStart is a Tuesday morning: advancing a few hours moves dossiers across
// their deadlines within office time.
var simStart = time.Date(2026, 11, 24, 9, 0, 0, 0, sla.Location())

// services builds the services for the simulator at url: the one-stop
// connector, and the national portal mirroring it when mirror is set.
func services(t *testing.T, sim *portalsim.Sim, url string, db *store.DB, mirror ...bool) *worker.Services {
	t.Helper()
	return servicesWith(t, sim, url, db, false, len(mirror) > 0 && mirror[0])
}

// servicesWith is services, holding mail until office hours when asked.
func servicesWith(t *testing.T, sim *portalsim.Sim, url string, db *store.DB, officeHoursOnly, mirror bool) *worker.Services {
	t.Helper()
	return servicesNotify(t, sim, url, db, officeHoursOnly, mirror, "")
}

// servicesNotify is servicesWith with more of the notify section (YAML lines
// indented by two spaces).
func servicesNotify(t *testing.T, sim *portalsim.Sim, url string, db *store.DB, officeHoursOnly, mirror bool, notify string) *worker.Services {
	t.Helper()
	people, err := sim.Directory().ConfigYAML()
	if err != nil {
		t.Fatal(err)
	}
	connectors := fmt.Sprintf(`connectors:
  - {name: onestop, kind: onestop, base_url: %s, username: %s, password: %s, rate_limit: 1000, page_size: 100}
`, url, portalsim.DefaultUsername, portalsim.DefaultPassword)
	if mirror {
		connectors += fmt.Sprintf(`  - {name: dvcqg, kind: dvcqg, base_url: %s, agency_code: %s, username: %s, password: %s, rate_limit: 1000, mirror_of: onestop}
`, url, portalsim.DefaultAgencyCode, portalsim.DefaultUsername, portalsim.DefaultPassword)
	}
	cfg, err := config.Parse([]byte(people+connectors+`notify:
  office_hours_only: `+fmt.Sprint(officeHoursOnly)+"\n"+notify+`
smtp: {host: 127.0.0.1, from: canhbao@hoabinh.example, tls: none}
admin:
  tokens: [{name: ops, role: admin, token: 0123456789abcdef}]
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := worker.New(cfg, db, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestIncrementalPassesEqualFullSweep syncs the simulator as its time moves
// and runs an incremental pass after each sync; a full sweep at the end must
// find nothing to change: the incremental passes saw every dossier that time
// or the portal moved across a threshold.
func TestIncrementalPassesEqualFullSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sim := portalsim.New(portalsim.Options{Seed: 31, Dossiers: 500, Start: simStart})
		srv := httptest.NewServer(sim.Handler())
		defer func() { srv.Close(); sim.Close() }()
		svc := services(t, sim, srv.URL, db)
		ctx := context.Background()

		pass := func(full bool) detect.Result {
			t.Helper()
			if _, err := svc.Sync(ctx, "onestop", ingest.Options{}); err != nil {
				t.Fatal(err)
			}
			res, err := svc.Detector.Run(ctx, detect.Options{Now: sim.Now(), Full: full})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		first := pass(false)
		if !first.Full || total(first.New) == 0 || first.Notifications == 0 {
			t.Fatalf("first pass: %+v; want a full sweep with breaches and emails", first)
		}
		var resolved, newOverdue, incremental int
		for range 4 {
			// Lateness is judged by date: the passes run past midnight.
			if _, err := sim.Advance(480); err != nil {
				t.Fatal(err)
			}
			res := pass(false)
			if res.Full {
				t.Fatalf("a pass within detect.full_sweep_every was a full sweep: %+v", res)
			}
			t.Logf("pass at %s: evaluated=%d new=%v resolved=%d alerts=%d emails=%d", sim.Now().Format(time.DateTime), res.Evaluated, res.New, res.Resolved, res.Alerts, res.Notifications)
			resolved += res.Resolved
			newOverdue += res.New[dvcwatch.BreachOverdue]
			incremental += res.Evaluated
		}
		if resolved == 0 || newOverdue == 0 {
			t.Errorf("32 hours of simulated time resolved %d breaches and made %d new overdue ones; want both", resolved, newOverdue)
		}
		if incremental >= 4*first.Evaluated {
			t.Errorf("incremental passes evaluated %d dossiers, as many as four full sweeps (%d each)", incremental, first.Evaluated)
		}

		full, err := svc.Detector.Run(ctx, detect.Options{Now: sim.Now(), Full: true})
		if err != nil {
			t.Fatal(err)
		}
		if total(full.New) != 0 || full.Updated != 0 || full.Reopened != 0 || full.Resolved != 0 || full.Alerts != 0 {
			t.Errorf("full sweep after incremental passes changed things: %+v", full)
		}

		// The office's summary: one per office person per day.
		n, err := svc.Notify.Summarize(ctx, sim.Now())
		if err != nil || n != 1 {
			t.Fatalf("summary: %d created, err %v; want one for the office", n, err)
		}
		if n, err := svc.Notify.Summarize(ctx, sim.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("second summary the same day: %d created, err %v; want none", n, err)
		}
	})
}

// TestBusy: a second pass while one holds the lease is refused with ErrBusy.
func TestBusy(t *testing.T) {
	db := storetest.SQLite(t)
	sim := portalsim.New(portalsim.Options{Seed: 32, Dossiers: 10, Start: simStart})
	defer sim.Close()
	svc := services(t, sim, "http://127.0.0.1:1", db)
	ok, err := db.TryLease(context.Background(), "detect", "someone else", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	_, err = svc.Detector.Run(context.Background(), detect.Options{})
	if !errors.Is(err, detect.ErrBusy) {
		t.Errorf("err = %v, want ErrBusy", err)
	}
}

func total(m map[dvcwatch.BreachKind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestMirrorCopiesAreJudgedOnce: with the national portal mirroring the
// one-stop system, a late dossier is one breach, of the source of truth; the
// mirror's copies are judged only through the reconciliation findings.
func TestMirrorCopiesAreJudgedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sim := portalsim.New(portalsim.Options{Seed: 7, Dossiers: 300, Start: simStart})
		srv := httptest.NewServer(sim.Handler())
		defer func() { srv.Close(); sim.Close() }()
		svc := services(t, sim, srv.URL, db, true)
		ctx := context.Background()
		for _, c := range []string{"onestop", "dvcqg"} {
			if _, err := svc.Sync(ctx, c, ingest.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		p := store.ReconcileParams{Truth: "onestop", Mirror: "dvcqg", Now: sim.Now(), MaxLag: time.Minute}
		if _, err := svc.DB.Reconcile(ctx, p); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Detector.Run(ctx, detect.Options{Now: sim.Now(), Full: true})
		if err != nil {
			t.Fatal(err)
		}
		bs, err := db.Breaches(ctx, store.BreachFilter{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == 0 || res.New[dvcwatch.BreachNotSynced] == 0 {
			t.Fatalf("%d breaches, new %v: the test needs late dossiers and dossiers missing on DVCQG", len(bs), res.New)
		}
		for _, b := range bs {
			if b.Key.Source != "onestop" {
				t.Fatalf("breach %s of %s: the mirror's copy was judged as a dossier of its own", b.Kind, b.Key)
			}
		}
		stored, err := db.CountDossiers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Evaluated >= stored {
			t.Errorf("evaluated %d of %d stored dossiers: the mirror's copies were evaluated", res.Evaluated, stored)
		}
	})
}

// TestUpgradeOfTheRules: the first pass with rules of a new version sweeps
// every dossier, resolves what the new rules no longer report (a breach of a
// retired kind) as a change of rules, and decides no alert about the history
// of finished dossiers; a rerun then mails nothing.
func TestUpgradeOfTheRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sim := portalsim.New(portalsim.Options{Seed: 31, Dossiers: 500, Start: simStart})
		srv := httptest.NewServer(sim.Handler())
		defer func() { srv.Close(); sim.Close() }()
		svc := servicesWith(t, sim, srv.URL, db, true, false)
		ctx := context.Background()
		if _, err := svc.Sync(ctx, "onestop", ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := sim.Advance(11 * 60); err != nil { // 20:00: mail waits for office hours
			t.Fatal(err)
		}
		now := sim.Now()

		// What the earlier rules left: a swept store, and a returned_late
		// breach (a kind no longer) of a finished dossier.
		var finished dvcwatch.DossierKey
		err := db.ScanDossiers(ctx, dvcwatch.ScanFilter{All: true}, 1000, func(p dvcwatch.ScannedPage) error {
			for _, d := range p.Dossiers {
				if d.Status == dvcwatch.StatusReturned && finished.Code == "" {
					finished = d.Key
				}
			}
			return nil
		})
		if err != nil || finished.Code == "" {
			t.Fatalf("no returned dossier in the simulator (err %v)", err)
		}
		old := dvcwatch.Breach{Kind: "returned_late", Key: finished, Severity: dvcwatch.SeverityWarning,
			StartedAt: now.Add(-48 * time.Hour), DueAt: now.Add(-48 * time.Hour)}
		if _, err := detect.RecordPage(ctx, detect.TxOf(db.InTx), detect.Page{Now: now.Add(-time.Hour),
			Dossiers: []dvcwatch.Evaluation{{Key: finished, Breaches: []dvcwatch.Breach{old}}}}); err != nil {
			t.Fatal(err)
		}
		earlier := dvcwatch.DetectorState{LastRunAt: time.Now().Add(-time.Minute), LastFullAt: time.Now().Add(-time.Minute), RulesVersion: 1}
		if err := db.SaveDetectorState(ctx, "detect", earlier); err != nil {
			t.Fatal(err)
		}

		res, err := svc.Detector.Run(ctx, detect.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Upgrade || !res.Full || res.Resolved != 1 || res.Notifications != 0 {
			t.Fatalf("upgrade pass: %+v; want a full sweep resolving the retired breach, composing nothing at night", res)
		}
		bs, err := db.Breaches(ctx, store.BreachFilter{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if b.Kind == "returned_late" && (b.ResolvedAt.IsZero() || b.ResolvedReason != dvcwatch.ResolvedRuleChanged) {
				t.Errorf("retired breach after the upgrade: %+v; want resolved as rule_changed", b)
			}
		}
		recipients, err := db.PendingRecipients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recipients {
			for a, err := range db.PendingAlerts(ctx, r) {
				if err != nil {
					t.Fatal(err)
				}
				if !a.Breach.Actionable {
					t.Errorf("alert to %s about %s of finished dossier %s: the upgrade mailed history", r, a.Breach.Kind, a.Breach.Key)
				}
			}
		}

		again, err := svc.Detector.Run(ctx, detect.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if again.Upgrade || again.Alerts != 0 || total(again.New) != 0 || again.Resolved != 0 {
			t.Errorf("rerun after the upgrade: %+v; want nothing new", again)
		}
		state, _, err := db.DetectorState(ctx, "detect")
		if err != nil || state.RulesVersion != breach.Version {
			t.Errorf("detector state %+v, %v; want rules version %d", state, err, breach.Version)
		}
	})
}
