package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"html"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/report"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// goldenNames names the groups as goldenConfig does.
func goldenNames(cfg *config.Config) report.Names {
	return func(level dvcwatch.TallyLevel, agency, code string) string {
		for _, a := range cfg.Agencies {
			switch {
			case level == dvcwatch.LevelAgency && a.Code == code:
				return a.Name
			case level == dvcwatch.LevelDepartment:
				for _, d := range a.Departments {
					if d.Code == code {
						return d.Name
					}
				}
			case level == dvcwatch.LevelOfficial:
				for _, o := range a.Officials {
					if o.ID == code {
						return o.Name
					}
				}
			}
		}
		for _, p := range cfg.Procedures {
			if level == dvcwatch.LevelProcedure && p.Code == code {
				return p.Name
			}
		}
		return ""
	}
}

// goldenWorkbook writes the golden November of db as a workbook, with the
// months of 2026 up to November for the trend.
func goldenWorkbook(t *testing.T, db *store.DB) (report.Workbook, []byte) {
	t.Helper()
	cfg := goldenServices(t, db, goldenConfig).Config
	wb, err := report.BuildWorkbook(context.Background(), db, goldenNames(cfg), report.Month(2026, time.November), agency)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.WriteXLSX(&b, wb); err != nil {
		t.Fatal(err)
	}
	return wb, b.Bytes()
}

// TestWorkbook writes the golden month as a workbook and reads it back: a
// sheet per level, the title and Vietnamese headers, the counts as numbers
// equal to the hand counts, rates as fractions in a percent format, empty
// where there is no data, and the charts' parts.
func TestWorkbook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		wb, data := goldenWorkbook(t, db)
		if len(wb.Trend) != 11 || wb.Trend[10].Period.Name != "11/2026" {
			t.Fatalf("trend of %d months, want January to November", len(wb.Trend))
		}
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()

		if got, want := f.GetSheetList(), []string{"Cơ quan", "Phòng ban", "Cán bộ", "Thủ tục"}; !slices.Equal(got, want) {
			t.Fatalf("sheets %q, want %q", got, want)
		}
		for _, sheet := range f.GetSheetList() {
			title, _ := f.GetCellValue(sheet, "A1")
			if !strings.Contains(title, "UBND xã Hòa Bình") || !strings.Contains(title, "11/2026") {
				t.Errorf("%s: title %q names neither the agency nor the month", sheet, title)
			}
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) < 3 || !slices.Equal(rows[1], report.Columns) {
				t.Errorf("%s: header row %q, want %q", sheet, rows[1], report.Columns)
			}
			panes, _ := f.GetPanes(sheet)
			if !panes.Freeze || panes.YSplit != 2 {
				t.Errorf("%s: panes %+v, want the header frozen", sheet, panes)
			}
		}

		// The agency's line: row 3 of "Cơ quan". Department rows follow
		// the store's order; find them by code.
		agencyRow := map[string]any{
			"D": 9, "E": 1, "F": 2, "G": 1, "H": 2, "I": 1, "J": 3, "K": 1, // received … open overdue
			"L": 6.0 / 9, "M": 5, "N": 3, "O": 3.0 / 5, "P": 5.612,
			"Q": 3.0 / 9, "R": 1.0 / 9, "S": 1.0, "T": 8.0 / 9, "U": 1, "V": 12,
		}
		checkRow(t, f, "Cơ quan", 3, "UBND xã Hòa Bình", agencyRow)
		rows, _ := f.GetRows("Phòng ban")
		byCode := map[string]int{}
		for i, r := range rows[2:] {
			if len(r) > 1 {
				byCode[r[1]] = i + 3
			}
		}
		if len(byCode) != 3 || byCode[""] != 5 {
			t.Fatalf("department rows %q, want VHXH, KT, then the unassigned", rows[2:])
		}
		checkRow(t, f, "Phòng ban", byCode["VHXH"], "Phòng Văn hóa – Xã hội", map[string]any{
			"D": 6, "F": 1, "H": 2, "I": 1, "J": 2, "L": 3.0 / 5, "M": 3, "N": 2, "P": 13.4 / 3, "Q": 2.0 / 6, "S": 1.0, "T": 1.0,
		})
		// KT owed no fee: no online payment rate.
		checkRow(t, f, "Phòng ban", byCode["KT"], "Phòng Kinh tế", map[string]any{
			"D": 2, "E": 1, "K": 1, "L": 2.0 / 3, "P": 7.33, "Q": 0.0, "S": nil, "T": 1.0 / 2,
		})
		// D11 has no step yet: no step rate, no average.
		checkRow(t, f, "Phòng ban", byCode[""], report.Unassigned, map[string]any{
			"D": 1, "J": 1, "L": 1.0, "M": 0, "O": nil, "P": nil,
		})

		// The trend: a line per month below the agency's, November's equal
		// to the agency's line; months without dossiers are empty.
		trend, _ := f.GetRows("Cơ quan")
		var months []string
		for _, r := range trend[3:] {
			if len(r) > 0 && regexp.MustCompile(`^\d\d/2026$`).MatchString(r[0]) {
				months = append(months, r[0])
			}
		}
		if len(months) != 11 || months[0] != "01/2026" || months[10] != "11/2026" {
			t.Errorf("trend months %q, want 01/2026 … 11/2026", months)
		}
		november := len(trend) // the last line written
		delete(agencyRow, "A")
		checkRow(t, f, "Cơ quan", november, "UBND xã Hòa Bình", agencyRow)
		// August had no dossiers: nothing received, no rate.
		checkRow(t, f, "Cơ quan", november-3, "UBND xã Hòa Bình", map[string]any{"D": 0, "K": 0, "L": nil, "V": 0})

		// Three charts: the agency's months, the departments, the officials.
		z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		parts := map[string][]string{}
		for _, file := range z.File {
			for _, re := range []string{`^xl/drawings/drawing\d+\.xml$`, `^xl/charts/chart\d+\.xml$`} {
				if regexp.MustCompile(re).MatchString(file.Name) {
					parts[re] = append(parts[re], file.Name)
				}
			}
		}
		if len(parts[`^xl/drawings/drawing\d+\.xml$`]) != 3 || len(parts[`^xl/charts/chart\d+\.xml$`]) != 3 {
			t.Errorf("drawing and chart parts %q, want three of each", parts)
		}
		chart := part(t, z, "xl/charts/chart2.xml")
		for _, ref := range []string{"'Phòng ban'!$L$3:$L$5", "'Phòng ban'!$C$3:$C$5", "'Phòng ban'!$L$2"} {
			if !strings.Contains(chart, ref) {
				t.Errorf("the departments' chart does not refer to %s:\n%s", ref, chart)
			}
		}
	})
}

// checkRow checks row of sheet: the name in C, and each column of want: a
// number (int: a count formatted #,##0; float64: a rate formatted 0.0%, or
// the average days in P formatted 0.0) stored as a number, or nil for an
// empty cell.
func checkRow(t *testing.T, f *excelize.File, sheet string, row int, name string, want map[string]any) {
	t.Helper()
	at := func(col string) string { return col + strconv.Itoa(row) }
	if got, _ := f.GetCellValue(sheet, at("C")); got != name {
		t.Errorf("%s!%s = %q, want %q", sheet, at("C"), got, name)
	}
	for col, w := range want {
		raw, err := f.GetCellValue(sheet, at(col), excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		kind, _ := f.GetCellType(sheet, at(col))
		id, _ := f.GetCellStyle(sheet, at(col))
		style, _ := f.GetStyle(id)
		format := ""
		if style.CustomNumFmt != nil {
			format = *style.CustomNumFmt
		} else if style.NumFmt == 3 {
			format = "#,##0"
		}
		wantFormat := "0.0%"
		switch {
		case col == "P":
			wantFormat = "0.0"
		case isInt(w):
			wantFormat = "#,##0"
		}
		if w != nil && format != wantFormat {
			t.Errorf("%s!%s formatted %q, want %q", sheet, at(col), format, wantFormat)
		}
		if w == nil {
			if raw != "" || format != wantFormat {
				t.Errorf("%s!%s = %q (%q), want empty, formatted %q", sheet, at(col), raw, format, wantFormat)
			}
			continue
		}
		if kind != excelize.CellTypeUnset && kind != excelize.CellTypeNumber {
			t.Errorf("%s!%s is of type %v, want a number", sheet, at(col), kind)
		}
		got, err := strconv.ParseFloat(raw, 64)
		var wf float64
		switch w := w.(type) {
		case int:
			wf = float64(w)
		case float64:
			wf = w
		}
		tolerance := 1e-9
		if col == "P" {
			tolerance = 0.0005
		}
		if err != nil || got < wf-tolerance || got > wf+tolerance {
			t.Errorf("%s!%s = %q, want %v", sheet, at(col), raw, wf)
		}
	}
}

// part is the text of a part of a zip, its XML entities unescaped.
func part(t *testing.T, z *zip.Reader, name string) string {
	t.Helper()
	r, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return html.UnescapeString(string(b))
}

func isInt(v any) bool { _, ok := v.(int); return ok }

// TestWorkbookRefuses: a workbook holds one agency's period, a table per
// level, and a trend of agency-level tables.
func TestWorkbookRefuses(t *testing.T) {
	nov, oct := report.Month(2026, time.November), report.Month(2026, time.October)
	agencyTable := report.Table{Period: nov, Agency: agency, Level: dvcwatch.LevelAgency}
	cases := []struct {
		wb   report.Workbook
		want string
	}{
		{report.Workbook{}, "no tables"},
		{report.Workbook{Tables: []report.Table{agencyTable, agencyTable}}, "two tables of level agency"},
		{report.Workbook{Tables: []report.Table{agencyTable, {Period: oct, Agency: agency, Level: dvcwatch.LevelDepartment}}},
			"one agency's period per workbook"},
		{report.Workbook{Tables: []report.Table{agencyTable}, Trend: []report.Table{{Period: oct, Level: dvcwatch.LevelOfficial}}},
			"want agency-level tables"},
	}
	for _, c := range cases {
		if err := report.WriteXLSX(io.Discard, c.wb); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("WriteXLSX(%+v) = %v, want %q", c.wb, err, c.want)
		}
	}
}
