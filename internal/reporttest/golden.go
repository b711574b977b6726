// Package reporttest holds the golden month of the monthly results: a
// crafted commune whose every indicator was computed by hand (package
// report's golden test says the numbers), for the tests of the report and of
// the admin console's report page.
package reporttest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// Agency is the golden commune's code.
const Agency = "000.05.31.H99"

// Config is one commune with two departments, an official in each,
// office hours of 7.5 hours (07:30–11:30, 13:30–17:00) and lateness by date;
// the national portal mirrors the one-stop system.
const Config = `connectors:
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

// At is a time in Asia/Ho_Chi_Minh in 2026.
func At(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, sla.Location())
}

func step(dept, official string, due, finished time.Time) dvcwatch.Step {
	return dvcwatch.Step{Seq: 1, Department: dept, Official: official, DueAt: due, FinishedAt: finished, StartedAt: finished.Add(-time.Hour)}
}

// Month is November 2026 in twelve dossiers (1 November is a Sunday;
// no holiday falls between 20 October and 30 November). Each comment says
// what the month's results make of it.
func Month() []dvcwatch.Dossier {
	d := func(code, procedure string, status dvcwatch.Status, received, due time.Time) dvcwatch.Dossier {
		return dvcwatch.Dossier{Key: dvcwatch.DossierKey{Source: "onestop", Code: code}, ProcedureCode: procedure,
			Agency: Agency, Status: status, Channel: dvcwatch.ChannelInPerson, ReceivedAt: received, DueAt: due,
			SourceUpdatedAt: received}
	}
	var ds []dvcwatch.Dossier

	// D1: received Mon 2/11 08:00 online with digitised parts, due Fri 6/11,
	// processed Thu 5/11 10:00: early. Its step (VHXH, a) due 5/11 ended
	// 5/11: on time. Handling: Mon 7 h + Tue, Wed 7.5 h + Thu 2.5 h =
	// 24.5 h = 3.27 working days.
	d1 := d("D1", "1.001", dvcwatch.StatusProcessed, At(11, 2, 8, 0), At(11, 6, 17, 0))
	d1.Channel, d1.HasDigitizedParts, d1.ProcessedAt = dvcwatch.ChannelOnline, true, At(11, 5, 10, 0)
	d1.Steps = []dvcwatch.Step{step("VHXH", "a", At(11, 5, 17, 0), At(11, 5, 10, 0))}
	ds = append(ds, d1)

	// D2: received Tue 3/11 09:00, due Tue 10/11, processed 10/11 15:00
	// (returned 11/11: the end is the processing): on its due date. Its
	// step (KT, c) due Mon 9/11 ended 10/11: late. The national portal
	// never got it: unsynced. Handling: Tue 6 h + 4 × 7.5 h + Tue 5.5 h =
	// 41.5 h = 5.53 days.
	d2 := d("D2", "2.002", dvcwatch.StatusReturned, At(11, 3, 9, 0), At(11, 10, 17, 0))
	d2.ProcessedAt, d2.ReturnedAt = At(11, 10, 15, 0), At(11, 11, 9, 0)
	d2.Steps = []dvcwatch.Step{step("KT", "c", At(11, 9, 17, 0), At(11, 10, 15, 0))}
	ds = append(ds, d2)

	// D3: received Wed 4/11 09:00, due Mon 9/11, processed Thu 12/11 09:00:
	// late, owned by the VHXH step that ended late (due 9/11). Paid online;
	// an apology issued 11/11 (in November). Handling: Wed 6 h + 5 × 7.5 h
	// + Thu 1.5 h = 45 h = 6 days.
	d3 := d("D3", "1.001", dvcwatch.StatusProcessed, At(11, 4, 9, 0), At(11, 9, 17, 0))
	d3.ProcessedAt, d3.PaidOnline = At(11, 12, 9, 0), true
	d3.Steps = []dvcwatch.Step{step("VHXH", "a", At(11, 9, 17, 0), At(11, 12, 9, 0))}
	d3.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: At(11, 11, 9, 0), NewDueAt: At(11, 12, 17, 0), IssuedBy: "a"}}
	ds = append(ds, d3)

	// D4: received Tue 20/10 09:00 (carried over into November), due Tue
	// 3/11, processed Mon 2/11 10:00: early. Its step (KT) due 3/11: on
	// time. Handling: Tue 6 h + 8 × 7.5 h + Mon 2.5 h = 68.5 h = 9.13 days.
	d4 := d("D4", "1.001", dvcwatch.StatusProcessed, At(10, 20, 9, 0), At(11, 3, 17, 0))
	d4.ProcessedAt = At(11, 2, 10, 0)
	d4.Steps = []dvcwatch.Step{step("KT", "c", At(11, 3, 17, 0), At(11, 2, 10, 0))}
	ds = append(ds, d4)

	// D5: received Mon 16/11 online, due Fri 4/12, in progress at VHXH:
	// open at the month's end, within its due.
	d5 := d("D5", "1.001", dvcwatch.StatusInProgress, At(11, 16, 9, 0), At(12, 4, 17, 0))
	d5.Channel = dvcwatch.ChannelOnline
	d5.Steps = []dvcwatch.Step{{Seq: 1, Department: "VHXH", Official: "a", StartedAt: At(11, 16, 10, 0)}}
	ds = append(ds, d5)

	// D6: received Tue 17/11, due Tue 24/11, in progress at KT: open at
	// the month's end and overdue.
	d6 := d("D6", "2.002", dvcwatch.StatusInProgress, At(11, 17, 9, 0), At(11, 24, 17, 0))
	d6.Steps = []dvcwatch.Step{{Seq: 1, Department: "KT", Official: "c", StartedAt: At(11, 17, 10, 0)}}
	ds = append(ds, d6)

	// D7: received Wed 18/11 09:00, supplements asked twice (Thu 19/11
	// 09:00 → Fri 20/11 09:00; Mon 23/11 09:00 → Tue 24/11 09:00, new
	// appointment Fri 27/11), processed Thu 26/11 10:00: before its date,
	// but two supplement requests count it late. Its step (VHXH) due 27/11:
	// on time. Handling: Wed 6 h + 5 × 7.5 h + Thu 2.5 h = 46 h, less the
	// two waits of 7.5 h each = 31 h = 4.13 days.
	d7 := d("D7", "1.001", dvcwatch.StatusProcessed, At(11, 18, 9, 0), At(11, 23, 17, 0))
	d7.ProcessedAt = At(11, 26, 10, 0)
	d7.Supplements = []dvcwatch.Supplement{
		{Seq: 1, RequestedAt: At(11, 19, 9, 0), ReturnedAt: At(11, 20, 9, 0)},
		{Seq: 2, RequestedAt: At(11, 23, 9, 0), ReturnedAt: At(11, 24, 9, 0), DueAfter: At(11, 27, 17, 0)},
	}
	d7.Steps = []dvcwatch.Step{step("VHXH", "a", At(11, 27, 17, 0), At(11, 26, 10, 0))}
	ds = append(ds, d7)

	// D8: received Thu 19/11, withdrawn by the citizen Fri 20/11: received,
	// withdrawn, in no rate.
	d8 := d("D8", "2.002", dvcwatch.StatusWithdrawn, At(11, 19, 9, 0), At(11, 24, 17, 0))
	d8.SourceUpdatedAt = At(11, 20, 9, 0)
	d8.Steps = []dvcwatch.Step{{Seq: 1, Department: "VHXH", Official: "a", StartedAt: At(11, 19, 10, 0)}}
	ds = append(ds, d8)

	// D9: received Wed 25/11, due Fri 27/11, documents asked Thu 26/11 and
	// not back by the month's end: its clock stood still before its due,
	// so open and within it.
	d9 := d("D9", "2.002", dvcwatch.StatusAwaitingSupplement, At(11, 25, 9, 0), At(11, 27, 17, 0))
	d9.Supplements = []dvcwatch.Supplement{{Seq: 1, RequestedAt: At(11, 26, 9, 0)}}
	d9.Steps = []dvcwatch.Step{{Seq: 1, Department: "VHXH", Official: "a", StartedAt: At(11, 25, 10, 0)}}
	ds = append(ds, d9)

	// D10: received 1/9 and processed 15/10: not in November at all.
	d10 := d("D10", "1.001", dvcwatch.StatusProcessed, At(9, 1, 9, 0), At(9, 4, 17, 0))
	d10.ProcessedAt = At(10, 15, 9, 0)
	ds = append(ds, d10)

	// D11: received Mon 30/11 online, in progress, due 3/12: received in
	// November, open within its due; no step yet: no department.
	d11 := d("D11", "2.002", dvcwatch.StatusInProgress, At(11, 30, 9, 0), At(12, 3, 17, 0))
	d11.Channel = dvcwatch.ChannelOnline
	ds = append(ds, d11)

	// D12: submitted online 27/11, never received: not in the results.
	d12 := d("D12", "1.001", dvcwatch.StatusSubmitted, time.Time{}, time.Time{})
	d12.SubmittedAt, d12.SourceUpdatedAt, d12.Channel = At(11, 27, 9, 0), At(11, 27, 9, 0), dvcwatch.ChannelOnline
	ds = append(ds, d12)
	return ds
}

// Services stores the golden month in db, its national portal's copy
// (all but D2), reconciles them and runs a detection pass on 1 December
// with the configuration yaml.
func Services(t *testing.T, db *store.DB, yaml string) *worker.Services {
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
	month := Month()
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
	if _, err := db.Reconcile(ctx, store.ReconcileParams{Truth: "onestop", Mirror: "dvcqg", Now: Now}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Detector.Run(ctx, detect.Options{Now: Now, Full: true}); err != nil {
		t.Fatal(err)
	}
	// Official c acknowledges D6's overdue breach.
	f, err := db.DossierFile(ctx, dvcwatch.DossierKey{Source: "onestop", Code: "D6"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range f.Breaches {
		if b.Kind == dvcwatch.BreachOverdue {
			if _, err := db.RecordAcks(ctx, "c", []dvcwatch.BreachRef{{ID: b.ID, Severity: b.Severity}}, "đang xử lý", Now); err != nil {
				t.Fatal(err)
			}
		}
	}
	return svc
}

// Now is when the golden month is judged: the morning of 1 December.
var Now = At(12, 1, 8, 0)
