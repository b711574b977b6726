package report_test

import (
	"context"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/internal/reporttest"
	"github.com/dvcwatch/dvcwatch/report"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

const agency = reporttest.Agency

const goldenConfig = reporttest.Config

var (
	goldenMonth    = reporttest.Month
	goldenServices = reporttest.Services
	goldenNow      = reporttest.Now
)

// TestGoldenMonth stores the crafted month, runs a detection pass on 1
// December and checks every indicator of November against the hand counts
// in goldenMonth's comments, on SQLite and PostgreSQL.
func TestGoldenMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		goldenServices(t, db, goldenConfig)
		november := report.Month(2026, time.November)
		byDept, err := report.Build(ctx, db, nil, november, agency, dvcwatch.LevelDepartment)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := report.Build(ctx, db, nil, november, agency, dvcwatch.LevelAgency)
		if err != nil {
			t.Fatal(err)
		}
		if len(whole.Rows) != 1 {
			t.Fatalf("agency rows %+v, want one", whole.Rows)
		}
		want := map[string]golden{
			// D1 D2 D3 D4 D5 D6 D7 D8 D9 D11; carried over D4; early D1 D4;
			// on due D2; late D3 D7; withdrawn D8; open within D5 D9 D11;
			// overdue D6. On time (2+1+3)/(5+4) = 6/9. Online D1 D5 D11 of
			// 9 received; digitised D1; fee owed and paid online D3;
			// unsynced D2. Handled D1 D2 D3 D4 D7: (3.27 + 5.53 + 6 + 9.13 +
			// 4.13) / 5 = 5.612 days. Steps finished D1 ✓ D2 ✗ D3 ✗ D4 ✓ D7 ✓.
			agency: {received: 9, carried: 1, early: 2, onDue: 1, late: 2, withdrawn: 1, within: 3, overdue: 1,
				onTime: 6.0 / 9, online: 3.0 / 9, digitised: 1.0 / 9, payment: 1, synced: 8.0 / 9, avgDays: 5.612,
				apologies: 1, steps: 5, stepsOnTime: 3,
				// Breaches that began in November: D3 finished late, with a
				// late apology (11/11, after its due 9/11); D6 overdue with
				// no apology; the steps of D2 and D3; D7 supplemented twice;
				// D12 not received within 8 working hours; appointments
				// beyond the 3-working-day limit for D1 (2/11: legal 5/11,
				// given 6/11), D2 (3/11: 6/11, 10/11), D5 (16/11: 19/11,
				// 4/12) and D6 (17/11: 20/11, 24/11) — D4's began in
				// October.
				breaches: map[dvcwatch.BreachKind]int{
					dvcwatch.BreachFinishedLate: 1, dvcwatch.BreachLateApology: 1, dvcwatch.BreachOverdue: 1,
					dvcwatch.BreachNoApology: 1, dvcwatch.BreachStepOverdue: 2, dvcwatch.BreachSupplementedTwice: 1,
					dvcwatch.BreachNotReceived: 1, dvcwatch.BreachDueBeyondLimit: 4,
				},
				acknowledged: 1, // D6's overdue, by c
			},
		}
		wantDept := map[string]golden{
			// D1 D3 D5 D7 D8 D9: early D1; late D3 D7; withdrawn D8; within
			// D5 D9. On time (1+2)/(3+2) = 3/5. Online D1 D5; handled D1 D3
			// D7: (3.27 + 6 + 4.13) / 3 = 4.4667. Steps D1 ✓ D3 ✗ D7 ✓.
			"VHXH": {received: 6, early: 1, late: 2, withdrawn: 1, within: 2,
				onTime: 3.0 / 5, online: 2.0 / 6, digitised: 1.0 / 6, payment: 1, synced: 1, avgDays: 13.4 / 3,
				apologies: 1, steps: 3, stepsOnTime: 2,
				breaches: map[dvcwatch.BreachKind]int{
					dvcwatch.BreachFinishedLate: 1, dvcwatch.BreachLateApology: 1, dvcwatch.BreachStepOverdue: 1,
					dvcwatch.BreachSupplementedTwice: 1, dvcwatch.BreachDueBeyondLimit: 2,
				}},
			// D2 D4 D6: carried over D4; early D4; on due D2; overdue D6.
			// On time 2/3. Handled D2 D4: (5.53 + 9.13) / 2 = 7.33. Steps D2
			// ✗ D4 ✓.
			"KT": {received: 2, carried: 1, early: 1, onDue: 1, overdue: 1,
				onTime: 2.0 / 3, online: 0, digitised: 0, payment: -1, synced: 1.0 / 2, avgDays: 7.33,
				steps: 2, stepsOnTime: 1,
				breaches: map[dvcwatch.BreachKind]int{
					dvcwatch.BreachOverdue: 1, dvcwatch.BreachNoApology: 1, dvcwatch.BreachStepOverdue: 1,
					dvcwatch.BreachDueBeyondLimit: 2,
				},
				acknowledged: 1},
			// D11, no step yet: received, open within its due, online.
			"": {received: 1, within: 1, onTime: 1, online: 1, digitised: 0, payment: -1, synced: 1, avgDays: -1,
				stepsOnTime: -1,
				// D12's not_received has no step either.
				breaches: map[dvcwatch.BreachKind]int{dvcwatch.BreachNotReceived: 1}},
		}
		check(t, whole.Rows, want)
		check(t, byDept.Rows, wantDept)
	})
}

// golden is what a row must say; a rate or average of -1 must be "no data".
type golden struct {
	received, carried, early, onDue, late, withdrawn, within, overdue int
	onTime, online, digitised, payment, synced, avgDays               float64
	apologies, steps                                                  int
	stepsOnTime                                                       float64 // steps finished on time; -1: no steps
	breaches                                                          map[dvcwatch.BreachKind]int
	acknowledged                                                      int
}

func check(t *testing.T, rows []report.Row, want map[string]golden) {
	t.Helper()
	if len(rows) != len(want) {
		t.Errorf("%d rows %v, want %d", len(rows), groups(rows), len(want))
	}
	for _, r := range rows {
		w, ok := want[r.Code]
		if !ok {
			t.Errorf("unexpected row %q: %+v", r.Code, r.Tally)
			continue
		}
		counts := [][3]any{
			{"received", r.Received, w.received}, {"carried over", r.CarriedOver, w.carried},
			{"finished early", r.FinishedEarly, w.early}, {"finished on due", r.FinishedOnDue, w.onDue},
			{"finished late", r.FinishedLate, w.late}, {"withdrawn", r.Withdrawn, w.withdrawn},
			{"open within due", r.OpenWithinDue, w.within}, {"open overdue", r.OpenOverdue, w.overdue},
			{"apologies", r.Apologies, w.apologies}, {"steps finished", r.StepsFinished, w.steps},
			{"breaches acknowledged", r.Acknowledged, w.acknowledged},
		}
		for _, c := range counts {
			if c[1] != c[2] {
				t.Errorf("%q %s = %v, want %v", r.Code, c[0], c[1], c[2])
			}
		}
		rates := []struct {
			name string
			got  report.Rate
			want float64
		}{
			{"on-time rate", r.OnTime, w.onTime}, {"online rate", r.Online, w.online},
			{"digitisation rate", r.Digitized, w.digitised}, {"online payment rate", r.OnlinePayment, w.payment},
			{"sync rate", r.Synced, w.synced},
		}
		for _, rt := range rates {
			v, ok := rt.got.Value()
			if rt.want < 0 {
				if ok {
					t.Errorf("%q %s = %v, want no data", r.Code, rt.name, rt.got)
				}
				continue
			}
			if !ok || math.Abs(v-rt.want) > 1e-9 {
				t.Errorf("%q %s = %v (%v), want %.4f", r.Code, rt.name, rt.got, v, rt.want)
			}
		}
		if w.stepsOnTime >= 0 && r.StepsOnTime.Num != int(w.stepsOnTime) {
			t.Errorf("%q steps on time = %d, want %v", r.Code, r.StepsOnTime.Num, w.stepsOnTime)
		}
		if !maps.Equal(r.Breaches, w.breaches) {
			t.Errorf("%q breaches %v, want %v", r.Code, r.Breaches, w.breaches)
		}
		if w.avgDays < 0 {
			if r.HasAverage {
				t.Errorf("%q average handling = %.4f, want no data", r.Code, r.AverageDays)
			}
		} else if !r.HasAverage || math.Abs(r.AverageDays-w.avgDays) > 0.0005 {
			t.Errorf("%q average handling = %.4f (%v), want %.4f", r.Code, r.AverageDays, r.HasAverage, w.avgDays)
		}
	}
}

func groups(rows []report.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Code)
	}
	return out
}

// TestGoldenDrillDown lists the dossiers behind numbers of the golden month:
// as many as the number, and the ones its comments name.
func TestGoldenDrillDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		goldenServices(t, db, goldenConfig)
		november := report.Month(2026, time.November)
		q := func(level dvcwatch.TallyLevel, group string, m dvcwatch.Measure, kind dvcwatch.BreachKind) dvcwatch.DrillQuery {
			return dvcwatch.DrillQuery{TallyQuery: dvcwatch.TallyQuery{From: november.From, To: november.To, Agency: agency, Level: level},
				Group: group, Measure: m, Kind: kind, Limit: 100}
		}
		for _, c := range []struct {
			q    dvcwatch.DrillQuery
			want string
		}{
			{q(dvcwatch.LevelDepartment, "KT", dvcwatch.MeasureOpenOverdue, ""), "D6"},
			{q(dvcwatch.LevelDepartment, "VHXH", dvcwatch.MeasureFinishedLate, ""), "D3 D7"},
			{q(dvcwatch.LevelDepartment, "VHXH", dvcwatch.MeasureOpenWithinDue, ""), "D5 D9"},
			{q(dvcwatch.LevelDepartment, "", dvcwatch.MeasureReceived, ""), "D11"},
			{q(dvcwatch.LevelAgency, agency, dvcwatch.MeasureReceived, ""), "D1 D2 D3 D5 D6 D7 D8 D9 D11"},
			{q(dvcwatch.LevelAgency, agency, dvcwatch.MeasureCarriedOver, ""), "D4"},
			{q(dvcwatch.LevelAgency, agency, dvcwatch.MeasureUnsynced, ""), "D2"},
			{q(dvcwatch.LevelDepartment, "KT", dvcwatch.MeasureStepsLate, ""), "D2"},
			{q(dvcwatch.LevelDepartment, "VHXH", dvcwatch.MeasureApologies, ""), "D3"},
			{q(dvcwatch.LevelDepartment, "", dvcwatch.MeasureBreaches, dvcwatch.BreachNotReceived), "D12"},
			{q(dvcwatch.LevelAgency, agency, dvcwatch.MeasureBreaches, dvcwatch.BreachDueBeyondLimit), "D1 D2 D5 D6"},
		} {
			keys, total, err := db.TallyDossiers(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, k.Code)
			}
			if strings.Join(got, " ") != c.want || total != len(keys) {
				t.Errorf("%s %q %s %s: %v (total %d), want %s", c.q.Level, c.q.Group, c.q.Measure, c.q.Kind, got, total, c.want)
			}
		}
		if _, _, err := db.TallyDossiers(ctx, q(dvcwatch.LevelAgency, agency, "late_ones", "")); err == nil || !strings.Contains(err.Error(), `unknown measure "late_ones"`) {
			t.Errorf("an unknown measure: %v", err)
		}
	})
}
