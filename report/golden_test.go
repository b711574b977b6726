package report_test

import (
	"context"
	"log/slog"
	"maps"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/report"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

const agency = "000.05.31.H99"

// goldenConfig is one commune with two departments, an official in each,
// office hours of 7.5 hours (07:30–11:30, 13:30–17:00) and lateness by date;
// the national portal mirrors the one-stop system.
const goldenConfig = `connectors:
  - {name: onestop, kind: onestop, base_url: "http://127.0.0.1:1", username: u, password: p}
  - {name: dvcqg, kind: dvcqg, base_url: "http://127.0.0.1:1", agency_code: "000.05.31.H99", username: u, password: p, mirror_of: onestop}
calendar:
  office_hours: ["07:30-11:30", "13:30-17:00"]
  cutoff: "17:00"
agencies:
  - code: "000.05.31.H99"
    name: UBND xã Hòa Bình
    departments:
      - {code: VHXH, name: "Phòng Văn hóa – Xã hội", head: b}
      - {code: KT, name: "Phòng Kinh tế", head: d}
    officials:
      - {id: a, name: Nguyễn Văn A, email: a@hoabinh.example, department: VHXH}
      - {id: b, name: Trần Thị B, email: b@hoabinh.example, department: VHXH, role: department_head}
      - {id: c, name: Phạm Văn C, email: c@hoabinh.example, department: KT}
      - {id: d, name: Lê Văn D, email: d@hoabinh.example, department: KT, role: department_head}
      - {id: vp, name: Văn phòng HĐND và UBND, email: vp@hoabinh.example, role: office}
procedures:
  - {code: "1.001", name: "Đăng ký khai sinh", limit: 3wd}
  - {code: "2.002", name: "Đăng ký hộ kinh doanh", limit: 3wd}
notify:
  office_hours_only: false
smtp: {host: 127.0.0.1, from: canhbao@hoabinh.example, tls: none}
admin:
  tokens: [{name: ops, role: admin, token: 0123456789abcdef}]
`

// at is a time in Asia/Ho_Chi_Minh in 2026.
func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, sla.Location())
}

func step(dept, official string, due, finished time.Time) dvcwatch.Step {
	return dvcwatch.Step{Seq: 1, Department: dept, Official: official, DueAt: due, FinishedAt: finished, StartedAt: finished.Add(-time.Hour)}
}

// goldenMonth is November 2026 in twelve dossiers (1 November is a Sunday;
// no holiday falls between 20 October and 30 November). Each comment says
// what the month's results make of it.
func goldenMonth() []dvcwatch.Dossier {
	d := func(code, procedure string, status dvcwatch.Status, received, due time.Time) dvcwatch.Dossier {
		return dvcwatch.Dossier{Key: dvcwatch.DossierKey{Source: "onestop", Code: code}, ProcedureCode: procedure,
			Agency: agency, Status: status, Channel: dvcwatch.ChannelInPerson, ReceivedAt: received, DueAt: due,
			SourceUpdatedAt: received}
	}
	var ds []dvcwatch.Dossier

	// D1: received Mon 2/11 08:00 online with digitised parts, due Fri 6/11,
	// processed Thu 5/11 10:00: early. Its step (VHXH, a) due 5/11 ended
	// 5/11: on time. Handling: Mon 7 h + Tue, Wed 7.5 h + Thu 2.5 h =
	// 24.5 h = 3.27 working days.
	d1 := d("D1", "1.001", dvcwatch.StatusProcessed, at(11, 2, 8, 0), at(11, 6, 17, 0))
	d1.Channel, d1.HasDigitizedParts, d1.ProcessedAt = dvcwatch.ChannelOnline, true, at(11, 5, 10, 0)
	d1.Steps = []dvcwatch.Step{step("VHXH", "a", at(11, 5, 17, 0), at(11, 5, 10, 0))}
	ds = append(ds, d1)

	// D2: received Tue 3/11 09:00, due Tue 10/11, processed 10/11 15:00
	// (returned 11/11: the end is the processing): on its due date. Its
	// step (KT, c) due Mon 9/11 ended 10/11: late. The national portal
	// never got it: unsynced. Handling: Tue 6 h + 4 × 7.5 h + Tue 5.5 h =
	// 41.5 h = 5.53 days.
	d2 := d("D2", "2.002", dvcwatch.StatusReturned, at(11, 3, 9, 0), at(11, 10, 17, 0))
	d2.ProcessedAt, d2.ReturnedAt = at(11, 10, 15, 0), at(11, 11, 9, 0)
	d2.Steps = []dvcwatch.Step{step("KT", "c", at(11, 9, 17, 0), at(11, 10, 15, 0))}
	ds = append(ds, d2)

	// D3: received Wed 4/11 09:00, due Mon 9/11, processed Thu 12/11 09:00:
	// late, owned by the VHXH step that ended late (due 9/11). Paid online;
	// an apology issued 11/11 (in November). Handling: Wed 6 h + 5 × 7.5 h
	// + Thu 1.5 h = 45 h = 6 days.
	d3 := d("D3", "1.001", dvcwatch.StatusProcessed, at(11, 4, 9, 0), at(11, 9, 17, 0))
	d3.ProcessedAt, d3.PaidOnline = at(11, 12, 9, 0), true
	d3.Steps = []dvcwatch.Step{step("VHXH", "a", at(11, 9, 17, 0), at(11, 12, 9, 0))}
	d3.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: at(11, 11, 9, 0), NewDueAt: at(11, 12, 17, 0), IssuedBy: "a"}}
	ds = append(ds, d3)

	// D4: received Tue 20/10 09:00 (carried over into November), due Tue
	// 3/11, processed Mon 2/11 10:00: early. Its step (KT) due 3/11: on
	// time. Handling: Tue 6 h + 8 × 7.5 h + Mon 2.5 h = 68.5 h = 9.13 days.
	d4 := d("D4", "1.001", dvcwatch.StatusProcessed, at(10, 20, 9, 0), at(11, 3, 17, 0))
	d4.ProcessedAt = at(11, 2, 10, 0)
	d4.Steps = []dvcwatch.Step{step("KT", "c", at(11, 3, 17, 0), at(11, 2, 10, 0))}
	ds = append(ds, d4)

	// D5: received Mon 16/11 online, due Fri 4/12, in progress at VHXH:
	// open at the month's end, within its due.
	d5 := d("D5", "1.001", dvcwatch.StatusInProgress, at(11, 16, 9, 0), at(12, 4, 17, 0))
	d5.Channel = dvcwatch.ChannelOnline
	d5.Steps = []dvcwatch.Step{{Seq: 1, Department: "VHXH", Official: "a", StartedAt: at(11, 16, 10, 0)}}
	ds = append(ds, d5)

	// D6: received Tue 17/11, due Tue 24/11, in progress at KT: open at
	// the month's end and overdue.
	d6 := d("D6", "2.002", dvcwatch.StatusInProgress, at(11, 17, 9, 0), at(11, 24, 17, 0))
	d6.Steps = []dvcwatch.Step{{Seq: 1, Department: "KT", Official: "c", StartedAt: at(11, 17, 10, 0)}}
	ds = append(ds, d6)

	// D7: received Wed 18/11 09:00, supplements asked twice (Thu 19/11
	// 09:00 → Fri 20/11 09:00; Mon 23/11 09:00 → Tue 24/11 09:00, new
	// appointment Fri 27/11), processed Thu 26/11 10:00: before its date,
	// but two supplement requests count it late. Its step (VHXH) due 27/11:
	// on time. Handling: Wed 6 h + 5 × 7.5 h + Thu 2.5 h = 46 h, less the
	// two waits of 7.5 h each = 31 h = 4.13 days.
	d7 := d("D7", "1.001", dvcwatch.StatusProcessed, at(11, 18, 9, 0), at(11, 23, 17, 0))
	d7.ProcessedAt = at(11, 26, 10, 0)
	d7.Supplements = []dvcwatch.Supplement{
		{Seq: 1, RequestedAt: at(11, 19, 9, 0), ReturnedAt: at(11, 20, 9, 0)},
		{Seq: 2, RequestedAt: at(11, 23, 9, 0), ReturnedAt: at(11, 24, 9, 0), DueAfter: at(11, 27, 17, 0)},
	}
	d7.Steps = []dvcwatch.Step{step("VHXH", "a", at(11, 27, 17, 0), at(11, 26, 10, 0))}
	ds = append(ds, d7)

	// D8: received Thu 19/11, withdrawn by the citizen Fri 20/11: received,
	// withdrawn, in no rate.
	d8 := d("D8", "2.002", dvcwatch.StatusWithdrawn, at(11, 19, 9, 0), at(11, 24, 17, 0))
	d8.SourceUpdatedAt = at(11, 20, 9, 0)
	d8.Steps = []dvcwatch.Step{{Seq: 1, Department: "VHXH", Official: "a", StartedAt: at(11, 19, 10, 0)}}
	ds = append(ds, d8)

	// D9: received Wed 25/11, due Fri 27/11, documents asked Thu 26/11 and
	// not back by the month's end: its clock stood still before its due,
	// so open and within it.
	d9 := d("D9", "2.002", dvcwatch.StatusAwaitingSupplement, at(11, 25, 9, 0), at(11, 27, 17, 0))
	d9.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: at(11, 26, 9, 0)}}
	d9.Steps = []dvcwatch.Step{{Seq: 1, Department: "VHXH", Official: "a", StartedAt: at(11, 25, 10, 0)}}
	ds = append(ds, d9)

	// D10: received 1/9 and processed 15/10: not in November at all.
	d10 := d("D10", "1.001", dvcwatch.StatusProcessed, at(9, 1, 9, 0), at(9, 4, 17, 0))
	d10.ProcessedAt = at(10, 15, 9, 0)
	ds = append(ds, d10)

	// D11: received Mon 30/11 online, in progress, due 3/12: received in
	// November, open within its due; no step yet: no department.
	d11 := d("D11", "2.002", dvcwatch.StatusInProgress, at(11, 30, 9, 0), at(12, 3, 17, 0))
	d11.Channel = dvcwatch.ChannelOnline
	ds = append(ds, d11)

	// D12: submitted online 27/11, never received: not in the results.
	d12 := d("D12", "1.001", dvcwatch.StatusSubmitted, time.Time{}, time.Time{})
	d12.SubmittedAt, d12.SourceUpdatedAt, d12.Channel = at(11, 27, 9, 0), at(11, 27, 9, 0), dvcwatch.ChannelOnline
	ds = append(ds, d12)
	return ds
}

// goldenServices stores the golden month in db, its national portal's copy
// (all but D2), reconciles them and runs a detection pass on 1 December
// with the configuration yaml.
func goldenServices(t *testing.T, db *store.DB, yaml string) *worker.Services {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(yaml), "golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := worker.New(cfg, db, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		t.Fatal(err)
	}
	month := goldenMonth()
	if _, err := db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: month}); err != nil {
		t.Fatal(err)
	}
	// The national portal has every received dossier with its status,
	// but D2.
	var mirror []dvcwatch.Dossier
	for _, d := range month {
		if d.Key.Code != "D2" && d.Status != dvcwatch.StatusSubmitted {
			d.Key.Source = "dvcqg"
			mirror = append(mirror, d)
		}
	}
	if _, err := db.ApplyPage(ctx, store.Page{Source: "dvcqg", Dossiers: mirror}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Reconcile(ctx, store.ReconcileParams{Truth: "onestop", Mirror: "dvcqg", Now: goldenNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Detector.Run(ctx, detect.Options{Now: goldenNow, Full: true}); err != nil {
		t.Fatal(err)
	}
	// Official c acknowledges D6's overdue breach.
	f, err := db.DossierFile(ctx, dvcwatch.DossierKey{Source: "onestop", Code: "D6"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range f.Breaches {
		if b.Kind == dvcwatch.BreachOverdue {
			if _, err := db.RecordAcks(ctx, "c", []dvcwatch.BreachRef{{ID: b.ID, Severity: b.Severity}}, "đang xử lý", goldenNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	return svc
}

// goldenNow is when the golden month is judged: the morning of 1 December.
var goldenNow = at(12, 1, 8, 0)

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
