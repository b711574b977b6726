package report

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/dvcwatch/dvcwatch"
)

// Workbook is one agency's results as WriteXLSX lays them out.
type Workbook struct {
	// Agency names the agency in every sheet's title; "" takes the name on
	// the agency-level table's row, else the tables' agency code.
	Agency string
	// Tables are one period's tables of the agency, at most one per level
	// (the agency-level table with the agency's one row, or none: zeros).
	// Each becomes a sheet named by its level (LevelNames), in the order of
	// dvcwatch.TallyLevels.
	Tables []Table
	// Trend, optional, are the agency-level tables of consecutive months,
	// oldest first: the months of the year to date, the report's month
	// last. The agency sheet lists them, a line per month, below the
	// period's line, and charts their on-time rate when there are two or
	// more.
	Trend []Table
}

// BuildWorkbook builds the four levels of period (one month) for agency,
// and the agency's months from January to period's month for the trend;
// names names the agency too, even in a month without dossiers.
func BuildWorkbook(ctx context.Context, src Source, names Names, period Period, agency string) (Workbook, error) {
	wb := Workbook{}
	if names != nil {
		wb.Agency = names(dvcwatch.LevelAgency, agency, agency)
	}
	for _, level := range dvcwatch.TallyLevels {
		t, err := Build(ctx, src, names, period, agency, level)
		if err != nil {
			return Workbook{}, err
		}
		wb.Tables = append(wb.Tables, t)
	}
	last := period.To.AddDate(0, -1, 0)
	for m := time.January; m <= last.Month(); m++ {
		month := Month(last.Year(), m)
		if month == period {
			wb.Trend = append(wb.Trend, wb.Tables[0]) // the agency's, built above
			continue
		}
		t, err := Build(ctx, src, names, month, agency, dvcwatch.LevelAgency)
		if err != nil {
			return Workbook{}, err
		}
		wb.Trend = append(wb.Trend, t)
	}
	return wb, nil
}

// The columns WriteXLSX refers to, from Columns.
const (
	nameColumn   = 3  // C, "Tên"
	onTimeColumn = 12 // L, "Tỷ lệ đúng hạn (%)"
	headerRow    = 2  // below the title
)

// WriteXLSX writes wb as an XLSX workbook: a sheet per level with a title
// row (the agency, the period, the level), the header row of Columns, then
// a row per group (on the agency sheet, the agency's line, then the trend's
// months). Counts are numbers, rates fractions formatted "0.0%", the average
// days formatted "0.0"; a cell with no data is empty. The header and the
// names stay in view (frozen panes), the groups can be filtered, and a page
// prints one sheet's width in landscape. The department and official sheets
// chart their groups' on-time rate, the agency sheet the trend's.
func WriteXLSX(w io.Writer, wb Workbook) error {
	if len(wb.Tables) == 0 {
		return fmt.Errorf("xlsx: no tables")
	}
	for _, t := range wb.Trend {
		if t.Level != dvcwatch.LevelAgency {
			return fmt.Errorf("xlsx: trend of %s: want agency-level tables, got %s", t.Period.Name, t.Level)
		}
	}
	x, err := newXLSX(wb)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	defer x.f.Close()
	tables := slices.Clone(wb.Tables)
	slices.SortStableFunc(tables, func(a, b Table) int {
		return slices.Index(dvcwatch.TallyLevels, a.Level) - slices.Index(dvcwatch.TallyLevels, b.Level)
	})
	for i, t := range tables {
		if i > 0 && t.Level == tables[i-1].Level {
			return fmt.Errorf("xlsx: two tables of level %s", t.Level)
		}
		if t.Agency != tables[0].Agency || t.Period != tables[0].Period {
			return fmt.Errorf("xlsx: tables of %s %s and %s %s: one agency's period per workbook",
				tables[0].Agency, tables[0].Period.Name, t.Agency, t.Period.Name)
		}
		if err := x.sheet(i, t); err != nil {
			return fmt.Errorf("xlsx: sheet %s: %w", LevelNames[t.Level], err)
		}
	}
	if _, err := x.f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// xlsx is a workbook being written, with its styles.
type xlsx struct {
	f                                      *excelize.File
	agency                                 string
	trend                                  []Table
	title, header, text, count, rate, days int
}

func newXLSX(wb Workbook) (*xlsx, error) {
	x := &xlsx{f: excelize.NewFile(), agency: wb.Agency, trend: wb.Trend}
	if x.agency == "" {
		for _, t := range wb.Tables {
			if t.Level == dvcwatch.LevelAgency && len(t.Rows) > 0 {
				x.agency = t.Rows[0].Name
			} else if x.agency == "" {
				x.agency = t.Agency
			}
		}
	}
	border := []excelize.Border{{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1}}
	styles := []struct {
		id    *int
		style excelize.Style
	}{
		{&x.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14, Family: font}}},
		{&x.header, excelize.Style{Font: &excelize.Font{Bold: true, Size: 11, Family: font}, Border: border,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		// Text wraps in its column: the breaches by kind are a sentence,
		// which would otherwise run past the sheet and shrink the printed page.
		{&x.text, excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&x.count, excelize.Style{Border: border, NumFmt: 3}}, // #,##0
		{&x.rate, excelize.Style{Border: border, CustomNumFmt: new("0.0%")}},
		{&x.days, excelize.Style{Border: border, CustomNumFmt: new("0.0")}},
	}
	for _, s := range styles {
		id, err := x.f.NewStyle(&s.style)
		if err != nil {
			x.f.Close()
			return nil, err
		}
		*s.id = id
	}
	return x, nil
}

// font is the workbook's default font, named in the styles that change
// it: a font without a name is the reader's choice (LibreOffice's is serif).
const font = "Calibri"

// widths are the columns' widths in characters: the level, the code, the
// name, then the numbers under their wrapped headers, and the breaches by
// kind, wrapped.
func widths() []float64 {
	w := []float64{11, 16, 34}
	for _, c := range Columns[3:] {
		if c == kindsColumn {
			w = append(w, 40)
			continue
		}
		w = append(w, 13)
	}
	return w
}

// sheet writes table t as the workbook's i-th sheet.
func (x *xlsx) sheet(i int, t Table) error {
	name := LevelNames[t.Level]
	if i == 0 {
		if err := x.f.SetSheetName(x.f.GetSheetName(0), name); err != nil {
			return err
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	title := fmt.Sprintf("%s — Kết quả giải quyết hồ sơ, kỳ %s — theo %s", x.agency, t.Period.Name, strings.ToLower(name))
	if err := x.f.SetCellValue(name, "A1", title); err != nil {
		return err
	}
	if err := x.f.SetCellStyle(name, "A1", "A1", x.title); err != nil {
		return err
	}
	if err := x.f.SetRowHeight(name, 1, 24); err != nil {
		return err
	}
	if err := x.headerRow(name, headerRow, Columns); err != nil {
		return err
	}
	for c, width := range widths() {
		col, _ := excelize.ColumnNumberToName(c + 1)
		if err := x.f.SetColWidth(name, col, col, width); err != nil {
			return err
		}
	}
	row := headerRow + 1
	rows := slices.Clone(t.Rows)
	if t.Level == dvcwatch.LevelAgency {
		rows = []Row{x.agencyRow(t)}
	} else { // the unassigned last, as a remainder
		unassigned := func(r Row) int {
			if r.Code == "" {
				return 1
			}
			return 0
		}
		slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Compare(unassigned(a), unassigned(b)) })
	}
	for _, r := range rows {
		if err := x.row(name, row, r.values()); err != nil {
			return err
		}
		row++
	}
	last := max(row-1, headerRow+1)
	lastCol, _ := excelize.ColumnNumberToName(len(Columns))
	if err := x.f.AutoFilter(name, fmt.Sprintf("A%d:%s%d", headerRow, lastCol, last), nil); err != nil {
		return err
	}
	if err := x.f.SetPanes(name, &excelize.Panes{Freeze: true, XSplit: nameColumn, YSplit: headerRow,
		TopLeftCell: cell(nameColumn+1, headerRow+1), ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := x.printLayout(name); err != nil {
		return err
	}
	chartAt := last + 3
	switch t.Level {
	case dvcwatch.LevelAgency:
		return x.trendRows(name, row+1)
	case dvcwatch.LevelDepartment, dvcwatch.LevelOfficial:
		if len(t.Rows) == 0 {
			return nil
		}
		return x.f.AddChart(name, cell(1, chartAt), x.onTimeChart(name, headerRow+1, last, nameColumn,
			excelize.Col, fmt.Sprintf("Tỷ lệ hồ sơ giải quyết đúng hạn theo %s, kỳ %s", strings.ToLower(name), t.Period.Name),
			max(640, 90*len(t.Rows))))
	}
	return nil
}

// trendRows writes the trend's months from row at, under a header of their
// own, and charts their on-time rate when there are two or more.
func (x *xlsx) trendRows(sheet string, at int) error {
	if len(x.trend) < 2 {
		return nil
	}
	first, last := x.trend[0].Period, x.trend[len(x.trend)-1].Period
	title := fmt.Sprintf("Theo tháng, %s–%s", first.Name, last.Name)
	if err := x.f.SetCellValue(sheet, cell(1, at), title); err != nil {
		return err
	}
	header := slices.Clone(Columns)
	header[0] = "Tháng"
	if err := x.headerRow(sheet, at+1, header); err != nil {
		return err
	}
	row := at + 2
	for _, t := range x.trend {
		values := x.agencyRow(t).values()
		values[0] = t.Period.Name
		if err := x.row(sheet, row, values); err != nil {
			return err
		}
		row++
	}
	chart := x.onTimeChart(sheet, at+2, row-1, 1, excelize.Line,
		fmt.Sprintf("Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng, %s–%s", first.Name, last.Name), max(640, 60*len(x.trend)))
	return x.f.AddChart(sheet, cell(1, row+2), chart)
}

// agencyRow is the agency's row of an agency-level table: zero counts and
// no rates in a month without dossiers, where the store has no row.
func (x *xlsx) agencyRow(t Table) Row {
	if len(t.Rows) > 0 {
		return t.Rows[0]
	}
	return RowOf(dvcwatch.LevelAgency, x.agency, dvcwatch.Tally{Group: t.Agency})
}

// onTimeChart charts the on-time rate of rows from..to of sheet (the header
// row above them), named by the cells of column categories, on an axis from 0 to 100%; a rate with no
// data is a gap.
func (x *xlsx) onTimeChart(sheet string, from, to, categories int, kind excelize.ChartType, title string, width int) *excelize.Chart {
	ref := func(col int) string {
		c, _ := excelize.ColumnNumberToName(col)
		return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, c, from, c, to)
	}
	minimum, maximum, vary := 0.0, 1.0, false
	axisFont := excelize.Font{Color: "404040", Size: 9}
	// A series' name is a reference: the column's header, above from.
	onTime, _ := excelize.ColumnNumberToName(onTimeColumn)
	series := excelize.ChartSeries{Name: fmt.Sprintf("'%s'!$%s$%d", sheet, onTime, from-1),
		Categories: ref(categories), Values: ref(onTimeColumn)}
	if kind == excelize.Line {
		series.Marker = excelize.ChartMarker{Symbol: "circle", Size: 6}
	}
	return &excelize.Chart{
		Type:       kind,
		Series:     []excelize.ChartSeries{series},
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title, Font: &excelize.Font{Bold: true, Size: 12}}}},
		Legend:     excelize.ChartLegend{Position: "none"},
		VaryColors: &vary,
		Dimension:  excelize.ChartDimension{Width: uint(min(width, 1600)), Height: 340},
		XAxis:      excelize.ChartAxis{Font: axisFont},
		YAxis: excelize.ChartAxis{Minimum: &minimum, Maximum: &maximum, MajorUnit: 0.2, MajorGridLines: true,
			NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}, Font: axisFont},
		PlotArea:     excelize.ChartPlotArea{ShowVal: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0.0%"}},
		ShowBlanksAs: "gap",
	}
}

// headerRow writes a header row of texts at row.
func (x *xlsx) headerRow(sheet string, row int, texts []string) error {
	if err := x.f.SetSheetRow(sheet, cell(1, row), &texts); err != nil {
		return err
	}
	if err := x.f.SetCellStyle(sheet, cell(1, row), cell(len(texts), row), x.header); err != nil {
		return err
	}
	return x.f.SetRowHeight(sheet, row, 62)
}

// row writes values (Row.values) at row: each in its format, an empty cell
// for no data.
func (x *xlsx) row(sheet string, row int, values []any) error {
	for i := range Columns {
		c := cell(i+1, row)
		style := x.text
		var value any
		if i < len(values) {
			switch v := values[i].(type) {
			case int:
				style, value = x.count, v
			case rateCell:
				style = x.rate
				if v.ok {
					value = v.v
				}
			case daysCell:
				style = x.days
				if v.ok {
					value = v.v
				}
			default:
				value = v
			}
		}
		if value != nil {
			if err := x.f.SetCellValue(sheet, c, value); err != nil {
				return err
			}
		}
		if err := x.f.SetCellStyle(sheet, c, c, style); err != nil {
			return err
		}
	}
	// A reader does not grow a row for wrapped text a writer left at the
	// default height: give it the lines its longest text needs.
	lines, w := 1, widths()
	for i, v := range values {
		if text, ok := v.(string); ok && i < len(w) {
			lines = max(lines, (utf8.RuneCountInString(text)+int(w[i])-1)/int(w[i]))
		}
	}
	if lines > 1 {
		return x.f.SetRowHeight(sheet, row, float64(15*lines))
	}
	return nil
}

// printLayout prints a sheet in landscape on A4, as wide as one page.
func (x *xlsx) printLayout(sheet string) error {
	if err := x.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: new(9), Orientation: new("landscape"),
		FitToWidth: new(1), FitToHeight: new(0)}); err != nil {
		return err
	}
	return x.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: new(true)})
}

// cell names the cell of column col and row, both from 1.
func cell(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}
