package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/report"
)

// The report page's API: the month's (or year's) results of one agency
// against the period before, the on-time rate per month for the chart, the
// dossiers behind any number (store.TallyDossiers: the same conditions the
// sums are made of, so a count and its list agree), and the workbook.

// ReportRow is one group's results: its counts by name (the measures of
// dvcwatch.Measures, which the drill-down takes, and steps_on_time,
// acknowledged, finished, open_at_end), its breaches by kind, and its rates
// as fractions of 1, null when there is nothing to count.
type ReportRow struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Unassigned marks the dossiers no department or official holds yet.
	Unassigned     bool                `json:"unassigned,omitempty"`
	Counts         map[string]int      `json:"counts"`
	BreachesByKind map[string]int      `json:"breaches_by_kind"`
	Rates          map[string]*float64 `json:"rates"`
	// AverageDays is the average handling time in working days; null when
	// nothing was handled.
	AverageDays *float64 `json:"average_days"`
}

// ReportPeriod is a month ("2026-11") or a year ("2026").
type ReportPeriod struct {
	Kind  string    `json:"kind"` // month or year
	Value string    `json:"value"`
	Name  string    `json:"name"` // as the report writes it: "11/2026", "2026"
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// ReportResults are one period's results: the agency's row and one row per
// group of the level.
type ReportResults struct {
	Period ReportPeriod `json:"period"`
	Total  ReportRow    `json:"total"`
	Rows   []ReportRow  `json:"rows"`
}

// Report is GET /api/v1/report: the period's results and the previous
// period's, for comparison.
type Report struct {
	Agency   Named         `json:"agency"`
	Agencies []Named       `json:"agencies"`
	Level    string        `json:"level"`
	Current  ReportResults `json:"current"`
	Previous ReportResults `json:"previous"`
}

// ReportLevels are the levels the report's rows are grouped by.
var ReportLevels = []string{string(dvcwatch.LevelDepartment), string(dvcwatch.LevelOfficial), string(dvcwatch.LevelProcedure)}

func rateOf(r report.Rate) *float64 {
	v, ok := r.Value()
	if !ok {
		return nil
	}
	return &v
}

func reportRow(r report.Row) ReportRow {
	t := r.Tally
	breaches := 0
	kinds := map[string]int{}
	for k, n := range t.Breaches {
		breaches += n
		kinds[string(k)] = n
	}
	counts := map[string]int{
		string(dvcwatch.MeasureReceived): t.Received, string(dvcwatch.MeasureCarriedOver): t.CarriedOver,
		string(dvcwatch.MeasureFinishedEarly): t.FinishedEarly, string(dvcwatch.MeasureFinishedOnDue): t.FinishedOnDue,
		string(dvcwatch.MeasureFinishedLate): t.FinishedLate, string(dvcwatch.MeasureWithdrawn): t.Withdrawn,
		string(dvcwatch.MeasureOpenWithinDue): t.OpenWithinDue, string(dvcwatch.MeasureOpenOverdue): t.OpenOverdue,
		string(dvcwatch.MeasureOnline): t.Online, string(dvcwatch.MeasureDigitized): t.Digitized,
		string(dvcwatch.MeasureFeeDue): t.FeeDue, string(dvcwatch.MeasurePaidOnline): t.PaidOnline,
		string(dvcwatch.MeasureUnsynced): t.Unsynced, string(dvcwatch.MeasureHandled): t.Handled,
		string(dvcwatch.MeasureStepsFinished): t.StepsFinished, string(dvcwatch.MeasureStepsLate): t.StepsFinished - t.StepsOnTime,
		string(dvcwatch.MeasureApologies): t.Apologies, string(dvcwatch.MeasureBreaches): breaches,
		"steps_on_time": t.StepsOnTime, "acknowledged": t.Acknowledged,
		"finished": t.Finished(), "open_at_end": t.OpenAtEnd(),
	}
	v := ReportRow{Code: r.Code, Name: r.Name, Counts: counts, BreachesByKind: kinds,
		Rates: map[string]*float64{
			"on_time": rateOf(r.OnTime), "steps_on_time": rateOf(r.StepsOnTime), "online": rateOf(r.Online),
			"digitized": rateOf(r.Digitized), "online_payment": rateOf(r.OnlinePayment), "synced": rateOf(r.Synced),
			// No citizens' ratings are ingested yet: no data, never 100%.
			"satisfaction": nil,
		}}
	if r.Code == "" && r.Level != dvcwatch.LevelAgency {
		v.Unassigned, v.Name = true, report.Unassigned
	}
	if r.HasAverage {
		d := r.AverageDays
		v.AverageDays = &d
	}
	return v
}

// reportPeriod reads ?month=YYYY-MM or ?year=YYYY, exactly one.
func reportPeriod(p params) (report.Period, ReportPeriod, error) {
	month, year := p.get("month"), p.get("year")
	switch {
	case month != "" && year != "":
		return report.Period{}, ReportPeriod{}, badRequest("month and year: give one period, a month (YYYY-MM) or a year (YYYY)")
	case year != "":
		y, err := strconv.Atoi(year)
		if err != nil || y < 2000 || y > 2100 {
			return report.Period{}, ReportPeriod{}, badRequest("year=%q: want a year such as 2026", year)
		}
		per := report.Year(y)
		return per, ReportPeriod{Kind: "year", Value: year, Name: per.Name, From: per.From, To: per.To}, nil
	case month == "":
		return report.Period{}, ReportPeriod{}, badRequest("month: required, as YYYY-MM (e.g. 2026-11), or year=YYYY")
	}
	per, err := report.ParseMonth(month)
	if err != nil {
		return report.Period{}, ReportPeriod{}, badRequest("month=%q: want YYYY-MM, e.g. 2026-11", month)
	}
	return per, periodView(per), nil
}

func periodView(per report.Period) ReportPeriod {
	if per.To.Sub(per.From) > 32*24*time.Hour {
		return ReportPeriod{Kind: "year", Value: strconv.Itoa(per.From.Year()), Name: per.Name, From: per.From, To: per.To}
	}
	return ReportPeriod{Kind: "month", Value: per.From.Format("2006-01"), Name: per.Name, From: per.From, To: per.To}
}

// previousPeriod is the month before a month, the year before a year.
func previousPeriod(per report.Period, v ReportPeriod) report.Period {
	if v.Kind == "year" {
		return report.Year(per.From.Year() - 1)
	}
	return per.Previous()
}

// reportAgency reads ?agency: one of the configured agencies, the first of
// them when absent.
func (s *Server) reportAgency(p params) (string, error) {
	a := p.get("agency")
	if a == "" {
		if len(s.opts.Agencies) == 0 {
			return "", badRequest("agency: required (no agency is configured)")
		}
		return s.opts.Agencies[0], nil
	}
	if len(s.opts.Agencies) > 0 && !slices.Contains(s.opts.Agencies, a) {
		return "", badRequest("agency=%q: not a configured agency %s", a, config.WantOneOf(a, s.opts.Agencies))
	}
	return a, nil
}

// reportScope reads a report's parameters (each one of allowed), its period
// and its agency.
func (s *Server) reportScope(r *http.Request, allowed []string) (params, report.Period, ReportPeriod, string, error) {
	p, err := listParams(r, allowed...)
	if err != nil {
		return params{}, report.Period{}, ReportPeriod{}, "", err
	}
	per, pv, err := reportPeriod(p)
	if err != nil {
		return params{}, report.Period{}, ReportPeriod{}, "", err
	}
	agency, err := s.reportAgency(p)
	return p, per, pv, agency, err
}

// reportLevel reads ?level from allowed, def when absent.
func reportLevel(p params, def string, allowed []string) (dvcwatch.TallyLevel, error) {
	v := p.get("level")
	if v == "" {
		return dvcwatch.TallyLevel(def), nil
	}
	if !slices.Contains(allowed, v) {
		return "", badRequest("level=%q: not a level of the results %s", v, config.WantOneOf(v, allowed))
	}
	return dvcwatch.TallyLevel(v), nil
}

// results builds one period's agency row and rows of level.
func (s *Server) results(r *http.Request, per report.Period, agency string, level dvcwatch.TallyLevel) (ReportResults, error) {
	names := report.Names(s.names().Name)
	out := ReportResults{Period: periodView(per), Rows: []ReportRow{}}
	whole, err := report.Build(r.Context(), s.opts.Store, names, per, agency, dvcwatch.LevelAgency)
	if err != nil {
		return ReportResults{}, err
	}
	total := report.RowOf(dvcwatch.LevelAgency, names(dvcwatch.LevelAgency, agency, agency), dvcwatch.Tally{Group: agency})
	for _, row := range whole.Rows {
		if row.Code == agency {
			total = row
		}
	}
	if total.Name == "" {
		total.Name = agency
	}
	out.Total = reportRow(total)
	t, err := report.Build(r.Context(), s.opts.Store, names, per, agency, level)
	if err != nil {
		return ReportResults{}, err
	}
	var unassigned []ReportRow
	for _, row := range t.Rows {
		if row.Code == "" {
			unassigned = append(unassigned, reportRow(row))
			continue
		}
		out.Rows = append(out.Rows, reportRow(row))
	}
	out.Rows = append(out.Rows, unassigned...) // the dossiers nobody holds yet, last
	return out, nil
}

func (s *Server) agencyList() []Named {
	out := make([]Named, 0, len(s.opts.Agencies))
	for _, a := range s.opts.Agencies {
		out = append(out, s.agency(a))
	}
	return out
}

// ReportParams are the parameters GET /api/v1/report takes.
var ReportParams = []string{"month", "year", "agency", "level"}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request, _ Principal) error {
	p, per, pv, agency, err := s.reportScope(r, ReportParams)
	if err != nil {
		return err
	}
	def := string(dvcwatch.LevelDepartment)
	if pv.Kind == "year" {
		def = string(dvcwatch.LevelOfficial) // the officials' yearly evaluation
	}
	level, err := reportLevel(p, def, ReportLevels)
	if err != nil {
		return err
	}
	cur, err := s.results(r, per, agency, level)
	if err != nil {
		return err
	}
	prev, err := s.results(r, previousPeriod(per, pv), agency, level)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Report{Agency: s.agency(agency), Agencies: s.agencyList(), Level: string(level),
		Current: cur, Previous: prev})
	return nil
}

// ReportSeries is one line of the chart: a group's on-time rate per month,
// null for a month with nothing to count.
type ReportSeries struct {
	Level      string     `json:"level"`
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Unassigned bool       `json:"unassigned,omitempty"`
	Values     []*float64 `json:"values"`
	OnTime     []int      `json:"on_time"` // the rate's numerator per month
	Counted    []int      `json:"counted"` // its denominator
}

// ReportTrend is GET /api/v1/report/trend: the on-time rate of each month
// of a year up to a month, of the agency and of each department.
type ReportTrend struct {
	Agency Named          `json:"agency"`
	Months []ReportPeriod `json:"months"`
	Series []ReportSeries `json:"series"`
}

// ReportTrendParams are the parameters GET /api/v1/report/trend takes.
var ReportTrendParams = []string{"year", "month", "agency"}

func (s *Server) getReportTrend(w http.ResponseWriter, r *http.Request, _ Principal) error {
	p, err := listParams(r, ReportTrendParams...)
	if err != nil {
		return err
	}
	y, err := strconv.Atoi(p.get("year"))
	if err != nil || y < 2000 || y > 2100 {
		return badRequest("year=%q: want a year such as 2026", p.get("year"))
	}
	last := 12
	if v := p.get("month"); v != "" {
		if last, err = strconv.Atoi(v); err != nil || last < 1 || last > 12 {
			return badRequest("month=%q: want the last month of the trend, 1 to 12", v)
		}
	}
	agency, err := s.reportAgency(p)
	if err != nil {
		return err
	}
	names := report.Names(s.names().Name)
	out := ReportTrend{Agency: s.agency(agency)}
	series := map[string]*ReportSeries{}
	var order []string
	line := func(level dvcwatch.TallyLevel, code, name string) *ReportSeries {
		key := string(level) + "/" + code
		if x, ok := series[key]; ok {
			return x
		}
		x := &ReportSeries{Level: string(level), Code: code, Name: name, Values: make([]*float64, last),
			OnTime: make([]int, last), Counted: make([]int, last)}
		if code == "" {
			x.Unassigned, x.Name = true, report.Unassigned
		}
		series[key] = x
		order = append(order, key)
		return x
	}
	line(dvcwatch.LevelAgency, agency, names(dvcwatch.LevelAgency, agency, agency))
	for m := 1; m <= last; m++ {
		per := report.Month(y, time.Month(m))
		out.Months = append(out.Months, periodView(per))
		// The departments' dossiers are the agency's, each in one group
		// (nobody's too): the agency's rate is the sum of theirs, so one
		// count a month serves both.
		t, err := report.Build(r.Context(), s.opts.Store, names, per, agency, dvcwatch.LevelDepartment)
		if err != nil {
			return err
		}
		var whole report.Rate
		for _, row := range t.Rows {
			x := line(dvcwatch.LevelDepartment, row.Code, row.Name)
			x.Values[m-1] = rateOf(row.OnTime)
			x.OnTime[m-1], x.Counted[m-1] = row.OnTime.Num, row.OnTime.Den
			whole.Num += row.OnTime.Num
			whole.Den += row.OnTime.Den
		}
		x := series[string(dvcwatch.LevelAgency)+"/"+agency]
		x.Values[m-1] = rateOf(whole)
		x.OnTime[m-1], x.Counted[m-1] = whole.Num, whole.Den
	}
	for _, k := range order {
		out.Series = append(out.Series, *series[k])
	}
	// The agency first, then the departments by name, nobody's last.
	slices.SortStableFunc(out.Series[1:], func(a, b ReportSeries) int {
		if a.Unassigned != b.Unassigned {
			if a.Unassigned {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ReportDossier is one dossier behind a number of the results, with the
// facts its verdict holds.
type ReportDossier struct {
	Source     string     `json:"source"`
	Code       string     `json:"code"`
	Procedure  Named      `json:"procedure"`
	Department Named      `json:"department"`
	Official   Person     `json:"official"`
	Status     StatusView `json:"status"`
	ReceivedAt *time.Time `json:"received_at"`
	DueAt      *time.Time `json:"due_at"`
	EndedAt    *time.Time `json:"ended_at"`
	// Outcome is how a finished dossier ended against its due: early,
	// on_due or late; "" while open.
	Outcome string `json:"outcome"`
}

// ReportDossiers is GET /api/v1/report/dossiers: the dossiers behind one
// number, at most limit of them, and how many there are in all. For the
// counts of dossiers the total is the number; steps, apologies and breaches
// are counted one by one and a dossier with two of them is listed once.
type ReportDossiers struct {
	Items   []ReportDossier `json:"items"`
	Total   int             `json:"total"`
	Limit   int             `json:"limit"`
	Period  ReportPeriod    `json:"period"`
	Agency  Named           `json:"agency"`
	Level   string          `json:"level"`
	Group   Named           `json:"group"`
	Measure string          `json:"measure"`
	Kind    string          `json:"kind,omitempty"`
}

// ReportDossierParams are the parameters GET /api/v1/report/dossiers takes.
var ReportDossierParams = []string{"month", "year", "agency", "level", "group", "measure", "kind", "limit"}

func (s *Server) getReportDossiers(w http.ResponseWriter, r *http.Request, _ Principal) error {
	p, per, pv, agency, err := s.reportScope(r, ReportDossierParams)
	if err != nil {
		return err
	}
	levels := make([]string, 0, len(dvcwatch.TallyLevels))
	for _, l := range dvcwatch.TallyLevels {
		levels = append(levels, string(l))
	}
	level, err := reportLevel(p, string(dvcwatch.LevelAgency), levels)
	if err != nil {
		return err
	}
	group := p.get("group")
	if level == dvcwatch.LevelAgency {
		if group != "" && group != agency {
			return badRequest("group=%q: at level agency the group is the agency, %s", group, agency)
		}
		group = agency
	} else if !p.q.Has("group") {
		return badRequest("group: required, the code of the %s (empty for the dossiers nobody holds yet)", level)
	}
	measures := make([]string, 0, len(dvcwatch.Measures))
	for _, m := range dvcwatch.Measures {
		measures = append(measures, string(m))
	}
	measure := p.get("measure")
	if !slices.Contains(measures, measure) {
		if measure == "" {
			return badRequest("measure: required %s", config.WantOneOf("", measures))
		}
		return badRequest("measure=%q: not a count of the results %s", measure, config.WantOneOf(measure, measures))
	}
	kind := p.get("kind")
	if kind != "" {
		kinds := make([]string, 0, 16)
		for _, k := range dvcwatch.BreachKinds() {
			kinds = append(kinds, string(k))
		}
		if measure != string(dvcwatch.MeasureBreaches) {
			return badRequest("kind=%q: only with measure=breaches", kind)
		}
		if !slices.Contains(kinds, kind) {
			return badRequest("kind=%q: unknown breach kind %s", kind, config.WantOneOf(kind, kinds))
		}
	}
	lim, err := p.limit(200, 1000)
	if err != nil {
		return err
	}
	keys, total, err := s.opts.Store.TallyDossiers(r.Context(), dvcwatch.DrillQuery{
		TallyQuery: dvcwatch.TallyQuery{From: per.From, To: per.To, Agency: agency, Level: level},
		Group:      group, Measure: dvcwatch.Measure(measure), Kind: dvcwatch.BreachKind(kind), Limit: lim})
	if err != nil {
		return err
	}
	verdicts, err := s.opts.Store.Verdicts(r.Context(), keys)
	if err != nil {
		return err
	}
	byKey := map[dvcwatch.DossierKey]dvcwatch.Verdict{}
	for _, v := range verdicts {
		byKey[v.Key] = v
	}
	names := report.Names(s.names().Name)
	named := func(level dvcwatch.TallyLevel, code string) Named {
		if code == "" {
			return Named{}
		}
		n := names(level, agency, code)
		if n == "" {
			n = code
		}
		return Named{code, n}
	}
	items := make([]ReportDossier, 0, len(keys))
	for _, k := range keys {
		d := ReportDossier{Source: k.Source, Code: k.Code}
		if v, ok := byKey[k]; ok {
			d.Procedure = named(dvcwatch.LevelProcedure, v.ProcedureCode)
			d.Department = named(dvcwatch.LevelDepartment, v.Department)
			if v.Official != "" {
				d.Official = s.person(v.Official)
			}
			d.Status = statusView(v.Status, "")
			d.ReceivedAt, d.DueAt, d.EndedAt = local(v.ReceivedAt), local(v.Due), local(v.EndedAt)
			d.Outcome = string(v.Outcome)
		}
		items = append(items, d)
	}
	g := named(level, group)
	if group == "" {
		g = Named{Name: report.Unassigned}
	}
	writeJSON(w, http.StatusOK, ReportDossiers{Items: items, Total: total, Limit: lim, Period: pv, Agency: s.agency(agency),
		Level: string(level), Group: g, Measure: measure, Kind: kind})
	return nil
}

// ReportWorkbookParams are the parameters GET /api/v1/report.xlsx takes.
var ReportWorkbookParams = []string{"month", "agency"}

// getReportWorkbook answers the month's workbook of one agency, as
// "dvcwatch report --format xlsx" writes it.
func (s *Server) getReportWorkbook(w http.ResponseWriter, r *http.Request, _ Principal) error {
	_, per, pv, agency, err := s.reportScope(r, ReportWorkbookParams)
	if err != nil {
		return err
	}
	wb, err := report.BuildWorkbook(r.Context(), s.opts.Store, report.Names(s.names().Name), per, agency)
	if err != nil {
		return err
	}
	var buf strings.Builder
	if err := report.WriteXLSX(&buf, wb); err != nil {
		return err
	}
	name := fmt.Sprintf("ket-qua-%s-%s.xlsx", pv.Value, strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			return c
		}
		return '_'
	}, agency))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(buf.String()))
	return nil
}
