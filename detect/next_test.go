package detect_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
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

// TestIncrementalCatchesWhatSweepsFind moves simulated time across every
// threshold the rules and the notifier know (due soon, the date's end,
// two working days overdue, office hours, an online submission's eight
// working hours, repeats every three hours, the office's escalation rule),
// in steps of uneven length over four days, and keeps two stores of the
// same portal: one judged by incremental passes, one by full sweeps at the
// same simulated times. After every pass both must record the same breaches
// (kind, severity, attribution, start, due, when detected and resolved, and
// why) and the same alerts (who, of what, at which severity, why, when),
// while the incremental passes evaluate a fraction of the dossiers.
func TestIncrementalCatchesWhatSweepsFind(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			sim := portalsim.New(portalsim.Options{Seed: 47, Dossiers: 400, Start: simStart})
			srv := httptest.NewServer(sim.Handler())
			defer func() { srv.Close(); sim.Close() }()
			incDB, fullDB := engine.open(t), engine.open(t)
			const notify = "  repeat_after: 3h\n"
			inc := servicesNotify(t, sim, srv.URL, incDB, false, true, notify)
			full := servicesNotify(t, sim, srv.URL, fullDB, false, true, notify)
			ctx := context.Background()

			var evaluated, swept, passes int
			step := func(minutes int) {
				t.Helper()
				if minutes > 0 {
					if _, err := sim.Advance(minutes); err != nil {
						t.Fatal(err)
					}
				}
				now := sim.Now()
				var res [2]detect.Result
				for _, svc := range []interface {
					Sync(context.Context, string, ingest.Options) (ingest.Result, error)
					Reconcile(context.Context, string) (dvcwatch.ReconcileResult, error)
				}{inc, full} {
					for _, c := range []string{"onestop", "dvcqg"} {
						if _, err := svc.Sync(ctx, c, ingest.Options{}); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := svc.Reconcile(ctx, "dvcqg"); err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if res[0], err = inc.Detector.Run(ctx, detect.Options{Now: now}); err != nil {
					t.Fatal(err)
				}
				if res[1], err = full.Detector.Run(ctx, detect.Options{Now: now, Full: true}); err != nil {
					t.Fatal(err)
				}
				if passes > 0 && res[0].Full {
					t.Fatalf("pass at %s: the incremental store swept: %+v", now.Format(time.DateTime), res[0])
				}
				passes++
				evaluated += res[0].Evaluated
				swept += res[1].Evaluated
				at := now.Format("Mon 2006-01-02 15:04")
				t.Logf("%s: incremental evaluated %d of %d; new %v resolved %d alerts %d emails %d",
					at, res[0].Evaluated, res[1].Evaluated, res[1].New, res[1].Resolved, res[1].Alerts, res[1].Notifications)
				a, b := res[0], res[1]
				if fmt.Sprint(a.New, a.Updated, a.Reopened, a.Resolved, a.Alerts, a.Notifications, a.Open) !=
					fmt.Sprint(b.New, b.Updated, b.Reopened, b.Resolved, b.Alerts, b.Notifications, b.Open) {
					t.Errorf("%s: incremental pass %+v\nfull sweep %+v", at, a, b)
				}
				if got, want := recorded(t, incDB), recorded(t, fullDB); !slices.Equal(got, want) {
					t.Errorf("%s: after the incremental pass\n%s\nafter the full sweep\n%s", at, diff(got, want), diff(want, got))
				}
			}
			step(0)
			// Uneven steps: thresholds fall inside them, on office hours and
			// outside, and on a weekend (28 November 2026 is a Saturday).
			for _, m := range []int{20, 45, 90, 7, 180, 240, 300, 61, 30, 500, 120, 15, 600, 240, 95, 480, 360, 720, 125, 40, 900, 300} {
				step(m)
			}
			if evaluated*3 > swept {
				t.Errorf("incremental passes evaluated %d dossiers, full sweeps %d: want under a third", evaluated, swept)
			}
		})
	}
}

// recorded lists what a store recorded of breaches and alerts, one line each,
// sorted: everything but ids, detail texts and the times of writes; the
// alerts through the emails they made.
func recorded(t *testing.T, db *store.DB) []string {
	t.Helper()
	bs, err := db.Breaches(context.Background(), store.BreachFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		if b.Kind == dvcwatch.BreachNotSynced || b.Kind == dvcwatch.BreachPortalMismatch {
			// Started when the finding was detected: the reconciliation's
			// wall clock, which differs between the two stores.
			b.StartedAt = time.Time{}
		}
		out = append(out, fmt.Sprintf("breach %s %s %s official=%s dept=%s agency=%s proc=%s actionable=%t started=%s due=%s detected=%s resolved=%s %s",
			b.Fingerprint, b.Kind, b.Severity, b.Official, b.Department, b.Agency, b.Procedure, b.Actionable,
			stamp(b.StartedAt), stamp(b.DueAt), stamp(b.DetectedAt), stamp(b.ResolvedAt), b.ResolvedReason))
	}
	ns, err := db.Notifications(context.Background(), 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		out = append(out, fmt.Sprintf("email %s to %s at %s: %d items, %q", n.Kind, n.Recipient, stamp(n.CreatedAt), n.Items, n.Subject))
	}
	slices.Sort(out)
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// diff returns the lines of a not in b.
func diff(a, b []string) string {
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "  "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestConfigurationChangeSweeps: the next checks are computed by the
// configuration (thresholds, repeats, escalation); a pass under another one
// is a full sweep, which recomputes them, and the pass after it is
// incremental again.
func TestConfigurationChangeSweeps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, sim := synced(t, db, 31, false)
		ctx := context.Background()
		now := sim.Now()
		pass := func(svc *worker.Services, at time.Time) detect.Result {
			t.Helper()
			res, err := svc.Detector.Run(ctx, detect.Options{Now: at})
			if err != nil {
				t.Fatal(err)
			}
			if full := res.Counts()["full"] == 1; full != res.Full {
				t.Errorf("counts say full=%t, the pass %t: job runs would misreport it", full, res.Full)
			}
			return res
		}
		if res := pass(svc, now); !res.Full {
			t.Fatalf("first pass: %+v; want a full sweep", res)
		}
		if res := pass(svc, now.Add(time.Minute)); res.Full {
			t.Fatalf("second pass, same configuration: %+v; want incremental", res)
		}
		srv := httptest.NewServer(sim.Handler())
		t.Cleanup(srv.Close)
		changed := servicesNotify(t, sim, srv.URL, db, false, false, "  repeat_after: 3h\n")
		if res := pass(changed, now.Add(2*time.Minute)); !res.Full || res.Evaluated == 0 {
			t.Fatalf("pass under notify.repeat_after changed: %+v; want a full sweep", res)
		}
		if res := pass(changed, now.Add(3*time.Minute)); res.Full {
			t.Fatalf("pass after that sweep: %+v; want incremental", res)
		}
	})
}
