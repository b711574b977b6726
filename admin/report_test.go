package admin_test

import (
	"bytes"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/internal/reporttest"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// reportBundle serves the API over the golden month (package report's
// golden test counts it by hand), with its directory's names.
func reportBundle(t *testing.T, db *store.DB) *apiBundle {
	t.Helper()
	svc := reporttest.Services(t, db, reporttest.Config)
	return apiSetupWith(t, db, func(o *admin.Options) {
		o.Names, o.Agencies = svc.Directory, []string{reporttest.Agency}
	})
}

func (b *apiBundle) get(t *testing.T, path string, v any) {
	t.Helper()
	b.do(t, "GET", path, "", apiBearer(apiViewerToken)).want(t, http.StatusOK, path).decode(t, v)
}

func rowOf(t *testing.T, rows []admin.ReportRow, code string) admin.ReportRow {
	t.Helper()
	for _, r := range rows {
		if r.Code == code {
			return r
		}
	}
	t.Fatalf("no row %q among %d", code, len(rows))
	return admin.ReportRow{}
}

func near(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }

// TestAPIReport reads the golden month through the report API on both
// engines: the agency's row and the departments' for November and October,
// every count's drill-down listing as many dossiers as the count says (at
// most as many, for steps, apologies and breaches, counted one by one), the
// chart's months, the officials' yearly evaluation with satisfaction null,
// the workbook, and parameters refused with what they take.
func TestAPIReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := reportBundle(t, db)
		var rep admin.Report
		b.get(t, "/api/v1/report?month=2026-11", &rep)
		if rep.Agency.Code != reporttest.Agency || rep.Agency.Name != "UBND xã Hòa Bình" || rep.Level != "department" {
			t.Errorf("agency %+v, level %q", rep.Agency, rep.Level)
		}
		cur, prev := rep.Current, rep.Previous
		if cur.Period.Value != "2026-11" || prev.Period.Value != "2026-10" || prev.Period.Kind != "month" {
			t.Errorf("periods %+v and %+v, want November and October", cur.Period, prev.Period)
		}
		if c := cur.Total.Counts; c["received"] != 9 || c["carried_over"] != 1 || c["open_overdue"] != 1 || c["breaches"] != 12 {
			t.Errorf("November's agency counts %v", c)
		}
		if !near(cur.Total.Rates["on_time"], 6.0/9) || cur.Total.Rates["satisfaction"] != nil {
			t.Errorf("November's rates %v", cur.Total.Rates)
		}
		// October: D4 received, D10 finished late.
		if c := prev.Total.Counts; c["received"] != 1 || c["finished_late"] != 1 {
			t.Errorf("October's agency counts %v", c)
		}
		kt := rowOf(t, cur.Rows, "KT")
		if kt.Name != "Phòng Kinh tế" || kt.Counts["open_overdue"] != 1 || !near(kt.Rates["on_time"], 2.0/3) {
			t.Errorf("KT's row %+v", kt)
		}
		if last := cur.Rows[len(cur.Rows)-1]; !last.Unassigned || last.Code != "" || last.Name != "(chưa phân công)" {
			t.Errorf("the last row %+v, want the dossiers nobody holds", last)
		}

		// Every number's dossiers, at every level, November and October.
		for _, level := range []string{"department", "official", "procedure"} {
			var lr admin.Report
			b.get(t, "/api/v1/report?month=2026-11&level="+level, &lr)
			for _, res := range []admin.ReportResults{lr.Current, lr.Previous} {
				rows := append([]admin.ReportRow{res.Total}, res.Rows...)
				for i, r := range rows {
					lv := level
					if i == 0 {
						lv = "agency"
					}
					for _, m := range dvcwatch.Measures {
						var d admin.ReportDossiers
						b.get(t, "/api/v1/report/dossiers?month="+res.Period.Value+"&level="+lv+"&group="+url.QueryEscape(r.Code)+
							"&measure="+string(m), &d)
						n := r.Counts[string(m)]
						switch m {
						case dvcwatch.MeasureStepsFinished, dvcwatch.MeasureStepsLate, dvcwatch.MeasureApologies, dvcwatch.MeasureBreaches:
							if d.Total > n || (n > 0) != (d.Total > 0) {
								t.Errorf("%s %s %q %s: %d dossiers for %d", res.Period.Value, lv, r.Code, m, d.Total, n)
							}
						default:
							if d.Total != n {
								t.Errorf("%s %s %q %s: %d dossiers, the count says %d", res.Period.Value, lv, r.Code, m, d.Total, n)
							}
						}
						if len(d.Items) != d.Total {
							t.Errorf("%s %s %q %s: %d items of %d", res.Period.Value, lv, r.Code, m, len(d.Items), d.Total)
						}
					}
				}
			}
		}
		var d admin.ReportDossiers
		b.get(t, "/api/v1/report/dossiers?month=2026-11&level=department&group=KT&measure=open_overdue", &d)
		if d.Total != 1 || len(d.Items) != 1 || d.Items[0].Code != "D6" || d.Items[0].Source != "onestop" ||
			d.Items[0].Department.Name != "Phòng Kinh tế" || d.Items[0].Official.Name != "Phạm Văn C" ||
			d.Items[0].Procedure.Name != "Đăng ký hộ kinh doanh" || d.Items[0].DueAt == nil || d.Group.Name != "Phòng Kinh tế" {
			t.Errorf("KT's overdue: %+v", d)
		}
		b.get(t, "/api/v1/report/dossiers?month=2026-11&level=agency&measure=breaches&kind=due_beyond_limit", &d)
		if d.Total != 4 {
			t.Errorf("due beyond limit: %d dossiers, want 4 (D1 D2 D5 D6)", d.Total)
		}

		// The chart: January to November, the agency first.
		var tr admin.ReportTrend
		b.get(t, "/api/v1/report/trend?year=2026&month=11", &tr)
		if len(tr.Months) != 11 || tr.Months[10].Value != "2026-11" || len(tr.Series) < 3 {
			t.Fatalf("trend %+v", tr)
		}
		if s := tr.Series[0]; s.Level != "agency" || !near(s.Values[10], 6.0/9) || s.Values[0] != nil || s.Counted[10] != 9 {
			t.Errorf("the agency's line %+v", s)
		}
		// Each month's point is that month's agency row.
		for i, m := range tr.Months {
			var mr admin.Report
			b.get(t, "/api/v1/report?month="+m.Value, &mr)
			got, want := tr.Series[0].Values[i], mr.Current.Total.Rates["on_time"]
			if (got == nil) != (want == nil) || (got != nil && !near(got, *want)) || tr.Series[0].Counted[i] != mr.Current.Total.Counts["finished"]+mr.Current.Total.Counts["open_at_end"] {
				t.Errorf("trend %s: %v, the month's row says %v", m.Value, got, want)
			}
		}
		var depts []string
		for _, s := range tr.Series[1:] {
			depts = append(depts, s.Code)
		}
		if strings.Join(depts, " ") != "KT VHXH " {
			t.Errorf("departments' lines %q, want KT VHXH and nobody's last", depts)
		}

		// The officials' yearly evaluation: satisfaction is no data.
		var y admin.Report
		b.get(t, "/api/v1/report?year=2026", &y)
		if y.Level != "official" || y.Current.Period.Kind != "year" || y.Previous.Period.Value != "2025" {
			t.Errorf("year: level %q, periods %+v %+v", y.Level, y.Current.Period, y.Previous.Period)
		}
		c := rowOf(t, y.Current.Rows, "c")
		if c.Name != "Phạm Văn C" || c.Counts["acknowledged"] != 1 || c.Counts["steps_finished"] != 2 ||
			c.BreachesByKind["overdue"] != 1 || !near(c.Rates["steps_on_time"], 0.5) {
			t.Errorf("official c's year: %+v", c)
		}
		for _, r := range y.Current.Rows {
			v, ok := r.Rates["satisfaction"]
			if !ok || v != nil {
				t.Errorf("%q satisfaction %v (present %t), want null", r.Code, v, ok)
			}
		}
		a := b.do(t, "GET", "/api/v1/report?year=2026", "", apiBearer(apiViewerToken))
		if !bytes.Contains(a.body, []byte(`"satisfaction": null`)) {
			t.Errorf("satisfaction not written null: %s", a.body[:200])
		}

		// The workbook, as report --format xlsx writes it.
		x := b.do(t, "GET", "/api/v1/report.xlsx?month=2026-11", "", apiBearer(apiViewerToken)).want(t, http.StatusOK, "workbook")
		if !bytes.HasPrefix(x.body, []byte("PK")) || x.header.Get("Content-Disposition") != `attachment; filename="ket-qua-2026-11-000.05.31.H99.xlsx"` ||
			!strings.Contains(x.header.Get("Content-Type"), "spreadsheetml") {
			t.Errorf("workbook: %q %q %d bytes", x.header.Get("Content-Disposition"), x.header.Get("Content-Type"), len(x.body))
		}
	})
}

// TestAPIReportBadParameters: a parameter out of its values is a 400 naming
// it and what it takes.
func TestAPIReportBadParameters(t *testing.T) {
	b := apiSetup(t, func(o *admin.Options) { o.Agencies = []string{"000.05.31.H99", "000.06.31.H99"} })
	for _, c := range []struct{ path, want string }{
		{"/api/v1/report", "month: required, as YYYY-MM"},
		{"/api/v1/report?month=2026-13", `month="2026-13": want YYYY-MM, e.g. 2026-11`},
		{"/api/v1/report?month=2026-11&year=2026", "give one period"},
		{"/api/v1/report?year=26", `year="26": want a year such as 2026`},
		{"/api/v1/report?month=2026-11&level=departmnt", `level="departmnt": not a level of the results (did you mean "department"? want one of: department, official, procedure)`},
		{"/api/v1/report?month=2026-11&level=agency", `want one of: department, official, procedure`},
		{"/api/v1/report?month=2026-11&agency=000.05.31.H98", `agency="000.05.31.H98": not a configured agency (did you mean "000.05.31.H99"?`},
		{"/api/v1/report?month=2026-11&by=official", "unknown parameter by: want month, year, agency, level"},
		{"/api/v1/report/trend?year=2026&month=13", `month="13": want the last month of the trend, 1 to 12`},
		{"/api/v1/report/trend?month=11", `year="": want a year such as 2026`},
		{"/api/v1/report/dossiers?month=2026-11&level=department&measure=received", "group: required"},
		{"/api/v1/report/dossiers?month=2026-11&level=agency", "measure: required (want one of: received, carried_over,"},
		{"/api/v1/report/dossiers?month=2026-11&level=agency&measure=open_overdu", `measure="open_overdu": not a count of the results (did you mean "open_overdue"?`},
		{"/api/v1/report/dossiers?month=2026-11&level=agency&measure=received&kind=overdue", `kind="overdue": only with measure=breaches`},
		{"/api/v1/report/dossiers?month=2026-11&level=agency&measure=breaches&kind=overdu", `kind="overdu": unknown breach kind (did you mean "overdue"?`},
		{"/api/v1/report/dossiers?month=2026-11&level=agency&group=X&measure=received", `group="X": at level agency the group is the agency`},
		{"/api/v1/report/dossiers?month=2026-11&level=agency&measure=received&limit=0", `limit="0": want a whole number from 1 to 1000`},
		{"/api/v1/report.xlsx?year=2026", "unknown parameter year: want month, agency"},
	} {
		a := b.do(t, "GET", c.path, "", apiBearer(apiViewerToken))
		if a.status != http.StatusBadRequest || !strings.Contains(a.errMessage(t), c.want) {
			t.Errorf("%s: %d %q, want 400 saying %q", c.path, a.status, a.body, c.want)
		}
	}
}
