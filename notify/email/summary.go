package email

import (
	"errors"
	"slices"
	"time"
)

// Summary is the daily summary for the Office of the People's Council and
// People's Committee (Văn phòng HĐND và UBND): per department, what is late.
type Summary struct {
	Recipient   Recipient
	Agency      string              // agency name
	Date        time.Time           // the day summarised (shown as 02/01/2006 in Vietnam time)
	Departments []DepartmentSummary // in the order given
}

// DepartmentSummary is one department's part of a Summary. The lists may
// share dossiers (a new breach is usually also overdue); each is counted on
// its own.
type DepartmentSummary struct {
	Name           string
	Overdue        []Item // open overdue dossiers
	NewBreaches    []Item // breaches first detected since the previous summary
	MissingApology []Item // late dossiers with no apology letter
}

const dateLayout = "02/01/2006"

// RenderSummary renders s with the embedded default templates.
func RenderSummary(s Summary) (subject, text, html string, err error) {
	r, err := defaultRenderer()
	if err != nil {
		return "", "", "", err
	}
	return r.RenderSummary(s)
}

// RenderSummary returns the office's daily summary email for s: a one-line
// subject with the day and the totals of each list over all departments (or
// that nothing is late), and text and HTML bodies with a section per
// department, its dossiers most urgent first and applicants' data masked.
func (r *Renderer) RenderSummary(s Summary) (subject, text, html string, err error) {
	if s.Date.IsZero() {
		return "", "", "", errors.New("render summary email: summary has no date")
	}
	return execute(r.summarySubject, r.summaryText, r.summaryHTML, newSummaryView(s), "summary email")
}

// summaryView is what the summary templates see: never the applicant's
// unmasked data.
type summaryView struct {
	Recipient Recipient
	RoleLabel string
	Agency    string
	Date      string // the day summarised, "28/11/2026" in Vietnam
	// Totals over all departments; Total is their sum, 0 when nothing is late.
	Overdue, NewBreaches, MissingApology, Total int
	Departments                                 []departmentView
}

type departmentView struct {
	Name string
	// Each list most urgent first; Total is the sum of their lengths.
	Overdue, NewBreaches, MissingApology []itemView
	Total                                int
}

func newSummaryView(s Summary) summaryView {
	v := summaryView{
		Recipient: s.Recipient, RoleLabel: roleLabels[s.Recipient.Role], Agency: s.Agency,
		Date: s.Date.In(vietnam).Format(dateLayout),
	}
	for _, d := range s.Departments {
		dv := departmentView{
			Name:           d.Name,
			Overdue:        urgentItemViews(d.Overdue),
			NewBreaches:    urgentItemViews(d.NewBreaches),
			MissingApology: urgentItemViews(d.MissingApology),
		}
		dv.Total = len(dv.Overdue) + len(dv.NewBreaches) + len(dv.MissingApology)
		v.Overdue += len(dv.Overdue)
		v.NewBreaches += len(dv.NewBreaches)
		v.MissingApology += len(dv.MissingApology)
		v.Departments = append(v.Departments, dv)
	}
	v.Total = v.Overdue + v.NewBreaches + v.MissingApology
	return v
}

// urgentItemViews returns views of items, most urgent first.
func urgentItemViews(items []Item) []itemView {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, urgent)
	views := make([]itemView, 0, len(sorted))
	for _, it := range sorted {
		views = append(views, newItemView(it))
	}
	return views
}
