package report

import (
	"context"
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Period is a span of whole days [From, To) in Asia/Ho_Chi_Minh.
type Period struct {
	From, To time.Time
	Name     string // e.g. "11/2026" or "1–11/2026"
}

// Month is the calendar month of year.
func Month(year int, month time.Month) Period {
	from := time.Date(year, month, 1, 0, 0, 0, 0, sla.Location())
	return Period{From: from, To: from.AddDate(0, 1, 0), Name: fmt.Sprintf("%02d/%d", int(month), year)}
}

// YearToDate runs from the 1st of January of year to the end of month.
func YearToDate(year int, month time.Month) Period {
	m := Month(year, month)
	name := fmt.Sprintf("1–%d/%d", int(month), year)
	if month == time.January {
		name = m.Name
	}
	return Period{From: time.Date(year, time.January, 1, 0, 0, 0, 0, sla.Location()), To: m.To, Name: name}
}

// Year is the calendar year, as the officials' yearly evaluation counts it.
func Year(year int) Period {
	from := time.Date(year, time.January, 1, 0, 0, 0, 0, sla.Location())
	return Period{From: from, To: from.AddDate(1, 0, 0), Name: fmt.Sprint(year)}
}

// ParseMonth reads a month written YYYY-MM.
func ParseMonth(s string) (Period, error) {
	t, err := time.ParseInLocation("2006-01", s, sla.Location())
	if err != nil {
		return Period{}, fmt.Errorf("month %q: want YYYY-MM, e.g. 2026-11", s)
	}
	return Month(t.Year(), t.Month()), nil
}

// Previous is the month before p's last month.
func (p Period) Previous() Period {
	last := p.To.AddDate(0, -1, 0)
	prev := last.AddDate(0, -1, 0)
	return Month(prev.Year(), prev.Month())
}

// Row is one group's counts with its indicators.
type Row struct {
	Level dvcwatch.TallyLevel
	Code  string // the group's code; "" when the dossiers name none
	Name  string // the configured name; the code when none is configured
	dvcwatch.Tally

	OnTime, StepsOnTime, Online, Digitized, OnlinePayment, Synced Rate
	AverageDays                                                   float64
	HasAverage                                                    bool
}

// RowOf computes the indicators of one tally.
func RowOf(level dvcwatch.TallyLevel, name string, t dvcwatch.Tally) Row {
	r := Row{Level: level, Code: t.Group, Name: name, Tally: t,
		OnTime: OnTimeRate(t), StepsOnTime: StepOnTimeRate(t), Online: OnlineRate(t), Digitized: DigitisationRate(t),
		OnlinePayment: OnlinePaymentRate(t), Synced: SyncRate(t)}
	r.AverageDays, r.HasAverage = AverageHandlingDays(t)
	return r
}

// Source counts the dossiers of a period (the store).
type Source interface {
	Tallies(ctx context.Context, q dvcwatch.TallyQuery) ([]dvcwatch.Tally, error)
}

// Names gives the configured name of a group of a level; "" for none.
type Names func(level dvcwatch.TallyLevel, agency, code string) string

// Table is the results of one period at one level.
type Table struct {
	Period Period
	Agency string // "" for every agency
	Level  dvcwatch.TallyLevel
	Rows   []Row
}

// Build counts period at level for agency ("" for all) and computes each
// group's indicators.
func Build(ctx context.Context, src Source, names Names, period Period, agency string, level dvcwatch.TallyLevel) (Table, error) {
	tallies, err := src.Tallies(ctx, dvcwatch.TallyQuery{From: period.From, To: period.To, Agency: agency, Level: level})
	if err != nil {
		return Table{}, fmt.Errorf("report %s: %w", period.Name, err)
	}
	t := Table{Period: period, Agency: agency, Level: level}
	for _, tally := range tallies {
		name := ""
		if names != nil {
			name = names(level, agency, tally.Group)
		}
		if name == "" {
			name = tally.Group
		}
		t.Rows = append(t.Rows, RowOf(level, name, tally))
	}
	return t, nil
}
