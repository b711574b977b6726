package email

import "errors"

// MonthlyReport is the month's results of an agency for the people who
// monitor them (role monitor) and the Office of the People's Council and
// People's Committee: the headline indicators against the month before, a
// line per department, and (in a workbook attached by the caller) every
// level. Its figures come formatted (package report writes numbers as
// Vietnamese text does), so that the mail says exactly what the workbook
// and the console say.
type MonthlyReport struct {
	Recipient Recipient
	Agency    string // agency name
	Prefix    string // subject prefix; "" uses Agency
	Month     string // "11/2026"
	Previous  string // "10/2026"
	// OnTime and PreviousOnTime are the on-time rates, "95,5%", or "" when
	// there was nothing to count; the subject quotes them.
	OnTime, PreviousOnTime string
	Figures                []Figure     // the headline indicators, on-time rate first
	Departments            []ResultLine // one per department answering for dossiers
	Attached               string       // the workbook's file name, "" when none is attached
	ConsoleURL             string       // the month's results in the admin console
}

// Figure is one headline indicator this month and the month before; "" is
// no data.
type Figure struct {
	Label, Value, Previous string
}

// ResultLine is one department's month.
type ResultLine struct {
	Name                     string
	Received, Finished, Late string // late: finished late, or open past the due at the month's end
	OnTime                   string // "" when nothing to count
}

// RenderMonthlyReport renders r with the embedded default templates.
func RenderMonthlyReport(r MonthlyReport) (subject, text, html string, err error) {
	rd, err := defaultRenderer()
	if err != nil {
		return "", "", "", err
	}
	return rd.RenderMonthlyReport(r)
}

// RenderMonthlyReport returns the monthly results email for r. It has one
// line per department, few enough to stay well within the size budget.
func (rd *Renderer) RenderMonthlyReport(r MonthlyReport) (subject, text, html string, err error) {
	if r.Month == "" {
		return "", "", "", errors.New("render monthly report email: no month")
	}
	v := monthlyView{MonthlyReport: r, RoleLabel: roleLabels[r.Recipient.Role]}
	if v.Prefix == "" {
		v.Prefix = r.Agency
	}
	return execute(rd.monthlySubject, rd.monthlyText, rd.monthlyHTML, v, "monthly report email")
}

type monthlyView struct {
	MonthlyReport
	RoleLabel string
}
