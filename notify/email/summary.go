package email

import (
	"cmp"
	"errors"
	"slices"
	"time"
)

// Summary is the daily summary for the Office of the People's Council and
// People's Committee (Văn phòng HĐND và UBND): how many dossiers each
// department has late, the most urgent of them, and (in a workbook attached
// by the caller) all of them.
type Summary struct {
	Recipient Recipient
	Agency    string    // agency name
	Prefix    string    // subject prefix; "" uses Agency
	Date      time.Time // the day summarised (shown as 02/01/2006 in Vietnam time)
	AsOf      time.Time // when the figures were read
	// Since is when the previous summary was sent to this recipient: "new"
	// means first detected after it.
	Since       time.Time
	Departments []DepartmentSummary // in the order given; every configured department, so "nothing late" is said too
	// Rows are the dossiers summarised, one each; the email lists the TopRows
	// most urgent (zero: DefaultMaxRows) and the workbook all of them.
	Rows    []Row
	TopRows int
	// Attached names the workbook with the full list, "" when none is attached.
	Attached string
	ListURL  string // the same list in the admin console
}

// DepartmentSummary counts one department's dossiers; each dossier counts
// once in each column that applies to it.
type DepartmentSummary struct {
	Name           string
	Overdue        int // open and past the due date
	DueSoon        int // open, due soon
	New            int // with a breach first detected since the previous summary
	MissingApology int // late with no apology letter
}

// RenderSummary renders s with the embedded default templates.
func RenderSummary(s Summary) (subject, text, html string, err error) {
	r, err := defaultRenderer()
	if err != nil {
		return "", "", "", err
	}
	return r.RenderSummary(s)
}

// RenderSummary returns the office's daily summary email for s: a subject
// with the day and the totals, and text and HTML bodies with the totals per
// department and the most urgent dossiers, applicants' data masked, within
// the size budget.
func (r *Renderer) RenderSummary(s Summary) (subject, text, html string, err error) {
	if s.Date.IsZero() {
		return "", "", "", errors.New("render summary email: summary has no date")
	}
	rows := slices.Clone(s.Rows)
	slices.SortStableFunc(rows, urgentRow)
	return withinBudget(cmp.Or(s.TopRows, DefaultMaxRows), func(listed int) (string, string, string, error) {
		return execute(r.summarySubject, r.summaryText, r.summaryHTML, newSummaryView(s, rows, listed), "summary email")
	})
}

// summaryView is what the summary templates see: never the applicant's
// unmasked data.
type summaryView struct {
	Recipient Recipient
	RoleLabel string
	Agency    string
	Prefix    string
	Date      string // the day summarised, "28/11/2026" in Vietnam
	AsOf      string
	Since     string // "" when there was no previous summary
	// Totals: distinct dossiers over all departments.
	Overdue, DueSoon, New, MissingApology, Total int
	Departments                                  []DepartmentSummary
	Rows                                         []rowView
	Omitted                                      int
	Attached                                     string
	ListURL                                      string
}

func newSummaryView(s Summary, rows []Row, listed int) summaryView {
	v := summaryView{
		Recipient: s.Recipient, RoleLabel: roleLabels[s.Recipient.Role], Agency: s.Agency,
		Prefix: cmp.Or(s.Prefix, s.Agency, "dvcwatch"), Date: s.Date.In(vietnam).Format(dateLayout),
		AsOf: asOf(s.AsOf), Attached: s.Attached, ListURL: s.ListURL, Total: len(rows),
	}
	if !s.Since.IsZero() {
		v.Since = asOf(s.Since)
	}
	for _, d := range s.Departments {
		d.Name = departmentLabel(d.Name)
		v.Departments = append(v.Departments, d)
		v.Overdue += d.Overdue
		v.DueSoon += d.DueSoon
		v.New += d.New
		v.MissingApology += d.MissingApology
	}
	for i, row := range rows {
		if i >= listed {
			v.Omitted++
			continue
		}
		v.Rows = append(v.Rows, newRowView(row))
	}
	return v
}
