package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/dvcwatch/dvcwatch"
)

// Columns are the results' columns, in the order every format writes them,
// headed in Vietnamese as a commune's office reads them.
var Columns = []string{
	"Cấp", "Mã", "Tên",
	"Tiếp nhận trong kỳ", "Kỳ trước chuyển sang",
	"Giải quyết trước hạn", "Giải quyết đúng hạn", "Giải quyết quá hạn", "Rút hồ sơ",
	"Đang giải quyết trong hạn", "Đang giải quyết quá hạn",
	"Tỷ lệ đúng hạn (%)",
	"Bước đã xong", "Bước xong đúng hạn", "Tỷ lệ bước đúng hạn (%)",
	"Thời gian giải quyết TB (ngày làm việc)",
	"Tỷ lệ trực tuyến (%)", "Tỷ lệ số hóa (%)", "Tỷ lệ thanh toán trực tuyến (%)", "Tỷ lệ đồng bộ DVCQG (%)",
	"Thư xin lỗi", "Vi phạm phát sinh",
	"Vi phạm đã được ghi nhận", kindsColumn, "Mức độ hài lòng (%)",
}

// kindsColumn heads the breaches by kind, a text column.
const kindsColumn = "Vi phạm theo loại"

// LevelNames are the levels as the Cấp column writes them.
var LevelNames = map[dvcwatch.TallyLevel]string{
	dvcwatch.LevelAgency: "Cơ quan", dvcwatch.LevelDepartment: "Phòng ban",
	dvcwatch.LevelOfficial: "Cán bộ", dvcwatch.LevelProcedure: "Thủ tục",
}

// Unassigned names the group of dossiers whose steps name no department or
// official yet.
const Unassigned = "(chưa phân công)"

// rateCell is a rate as a fraction of 1; ok is false when there is no data.
type rateCell struct {
	v  float64
	ok bool
}

// daysCell is an average in working days; ok is false when there is no data.
type daysCell struct {
	v  float64
	ok bool
}

// values are a row's values in the order of Columns: strings, counts (int),
// rates (rateCell) and the average days (daysCell); every format writes
// them, each in its own way.
func (r Row) values() []any {
	rate := func(x Rate) rateCell {
		v, ok := x.Value()
		return rateCell{v, ok}
	}
	name := r.Name
	if r.Code == "" && r.Level != dvcwatch.LevelAgency {
		name = Unassigned
	}
	breaches := 0
	for _, c := range r.Breaches {
		breaches += c
	}
	var kinds []string
	order := dvcwatch.BreachKinds() // the kinds' own order, then any retired kind a store still holds
	for _, k := range slices.Sorted(maps.Keys(r.Breaches)) {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	for _, k := range order {
		if c := r.Breaches[k]; c > 0 {
			kinds = append(kinds, k.Vietnamese()+": "+strconv.Itoa(c))
		}
	}
	return []any{
		LevelNames[r.Level], r.Code, name,
		r.Received, r.CarriedOver,
		r.FinishedEarly, r.FinishedOnDue, r.FinishedLate, r.Withdrawn,
		r.OpenWithinDue, r.OpenOverdue,
		rate(r.OnTime),
		r.StepsFinished, r.StepsOnTime.Num, rate(r.StepsOnTime),
		daysCell{r.AverageDays, r.HasAverage},
		rate(r.Online), rate(r.Digitized), rate(r.OnlinePayment), rate(r.Synced),
		r.Apologies, breaches,
		r.Acknowledged, strings.Join(kinds, "; "),
		rateCell{}, // satisfaction: no citizen ratings are ingested yet, so no data, never 100%
	}
}

// cells are a row's values as text: counts as numbers, rates in per cent to
// one decimal, "" where there is no data; num writes the numbers.
func (r Row) cells(num func(v float64, decimals int) string) []string {
	values := r.values()
	out := make([]string, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case string:
			out[i] = v
		case int:
			out[i] = num(float64(v), 0)
		case rateCell:
			if v.ok {
				out[i] = num(100*v.v, 1)
			}
		case daysCell:
			if v.ok {
				out[i] = num(v.v, 1)
			}
		}
	}
	return out
}

// plain writes numbers for machines: a point before the decimals, no
// grouping.
func plain(v float64, decimals int) string { return strconv.FormatFloat(v, 'f', decimals, 64) }

// vietnamese writes numbers as Vietnamese text does: "1.234" and "62,5".
var vietnamese = func() func(float64, int) string {
	p := message.NewPrinter(language.Vietnamese)
	return func(v float64, decimals int) string { return p.Sprintf("%.*f", decimals, v) }
}()

// WriteCSV writes tables as one CSV with a header row; numbers are written
// for machines (no grouping, a decimal point), a rate with no data is empty.
func WriteCSV(w io.Writer, tables ...Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, t := range tables {
		for _, r := range t.Rows {
			if err := cw.Write(r.cells(plain)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// tableColumns are the columns WriteTable keeps: a terminal is narrow.
var tableColumns = []int{2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15}

// evaluationColumns are the columns WriteTable keeps for officials, as their
// yearly evaluation reads them: the steps they handled and how many on
// time, the breaches attributed to them by kind and how many were
// acknowledged, and the citizens' satisfaction.
var evaluationColumns = []int{2, 12, 13, 14, 21, 22, 23, 24}

// WriteTable writes tables for a terminal: the name, the counts and the
// main rates, numbers in Vietnamese, "–" where there is no data.
func WriteTable(w io.Writer, tables ...Table) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(columns []int, cells []string) {
		for _, i := range columns {
			c := cells[i]
			if c == "" {
				c = "–"
			}
			fmt.Fprint(tw, c, "\t")
		}
		fmt.Fprintln(tw)
	}
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s — %s\n", LevelNames[t.Level], t.Period.Name)
		columns := tableColumns
		if t.Level == dvcwatch.LevelOfficial {
			columns = evaluationColumns
		}
		row(columns, Columns)
		for _, r := range t.Rows {
			row(columns, r.cells(vietnamese))
		}
	}
	return tw.Flush()
}

// Percent writes a rate as Vietnamese text does, "95,5%"; "" when there is
// nothing to count.
func Percent(r Rate) string {
	v, ok := r.Value()
	if !ok {
		return ""
	}
	return vietnamese(100*v, 1) + "%"
}

// Number writes a count as Vietnamese text does, "1.234".
func Number(n int) string { return vietnamese(float64(n), 0) }

// Days writes an average in working days, "2,9"; "" when there was
// nothing to average.
func Days(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return vietnamese(v, 1)
}
