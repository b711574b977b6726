package email

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// Budget of one email. Gmail clips an HTML part over about 102 KB ("[Message
// clipped]"), hiding the rest; MaxHTMLBytes keeps a margin under it, and a
// digest that would exceed it lists fewer rows until it does not.
const (
	MaxHTMLBytes   = 95_000
	DefaultMaxRows = 30
)

// Tag is one breach of a row's dossier, as the row lists it.
type Tag struct {
	Kind     dvcwatch.BreachKind
	Severity dvcwatch.Severity
	Step     int // the step's number for a step breach; 0 for the whole dossier
}

// Row is one dossier in an email, with every breach of it the recipient is
// told of. ApplicantName and ApplicantPhone are personal data: templates only
// ever see them masked.
type Row struct {
	Code       string
	Procedure  string
	Department string // who holds it: department name...
	Official   string // ...and official's name
	DueAt      time.Time
	// LateDays is how many working days past its due date the dossier is (or
	// was, when processing ended); 0 when it is not late.
	LateDays int
	// HoursLeft is the working time left before the due, for a dossier due
	// soon; zero otherwise.
	HoursLeft time.Duration
	Tags      []Tag
	New       bool   // in a summary: a breach first detected since the previous summary
	Link      string // the dossier in the one-stop system
	Console   string // the dossier in the admin console
	AckLink   string // a signed link that acknowledges the row's breaches
	// Applicant's data, masked before any template sees it.
	ApplicantName, ApplicantPhone string
}

// Digest is everything one email tells one recipient: one row per dossier.
type Digest struct {
	Recipient Recipient
	// Agency is the sending agency's name, said in the text and signed at
	// the foot; Prefix starts the subject (the agency's short name, as the
	// configuration gives it; "" uses Agency).
	Agency, Prefix string
	AsOf           time.Time // when the figures were read
	Rows           []Row
	// MaxRows bounds the rows listed, most urgent first; the counts cover
	// every row. Zero means DefaultMaxRows.
	MaxRows int
	// ListURL opens the full list in the admin console; shown when rows are
	// left out.
	ListURL string
	// tally counts every row Add was given, when the digest was built by
	// Add; nil: Rows are every row.
	tally *tally
}

// Add counts a row into the digest and keeps it in Rows only while it is
// among the MaxRows most urgent, so that a digest of any size is composed in
// the memory of MaxRows rows; the counts, and Render's, cover every row
// added. Rows equally urgent keep the order they were added in.
func (d *Digest) Add(r Row) {
	if d.tally == nil {
		d.tally = newTally()
	}
	d.tally.add(r)
	limit := cmp.Or(d.MaxRows, DefaultMaxRows)
	i, _ := slices.BinarySearchFunc(d.Rows, r, func(e, t Row) int {
		if urgentRow(e, t) <= 0 {
			return -1 // after every row at least as urgent
		}
		return 1
	})
	if i >= limit {
		return
	}
	d.Rows = slices.Insert(d.Rows, i, r)
	if len(d.Rows) > limit {
		d.Rows = d.Rows[:limit]
	}
}

// Total is how many rows the digest counts: every row added, or its Rows.
func (d *Digest) Total() int {
	if d.tally != nil {
		return d.tally.total
	}
	return len(d.Rows)
}

// tally is what a digest says of all its rows, listed or not: how many
// dossiers, per kind and per department.
type tally struct {
	total       int
	kinds       map[dvcwatch.BreachKind]int
	departments map[string]int
}

func newTally() *tally {
	return &tally{kinds: map[dvcwatch.BreachKind]int{}, departments: map[string]int{}}
}

// unknownDepartment names, in every email and workbook, the department of
// breaches whose dossier the portal assigned to none.
const unknownDepartment = "Chưa rõ phòng ban"

// departmentLabel is a department's name as a reader sees it: never blank.
func departmentLabel(name string) string { return cmp.Or(name, unknownDepartment) }

// add counts a row: once in total and under its department, once under each
// kind it carries.
func (t *tally) add(r Row) {
	t.total++
	t.departments[departmentLabel(r.Department)]++
	for i, tag := range r.Tags {
		if !slices.ContainsFunc(r.Tags[:i], func(o Tag) bool { return o.Kind == tag.Kind }) {
			t.kinds[tag.Kind]++
		}
	}
}

// urgentRow orders rows for a reader: the most overdue first, then the
// nearest due, then the most urgent kind, then by code so the order is
// stable. A row without a due date comes after those with one.
func urgentRow(a, b Row) int {
	if c := cmp.Compare(b.LateDays, a.LateDays); c != 0 {
		return c
	}
	switch {
	case a.DueAt.IsZero() != b.DueAt.IsZero():
		if a.DueAt.IsZero() {
			return 1
		}
		return -1
	case !a.DueAt.Equal(b.DueAt):
		return a.DueAt.Compare(b.DueAt)
	}
	la, lb := a.lead(), b.lead()
	if c := cmp.Compare(la.Kind.Urgency(), lb.Kind.Urgency()); c != 0 {
		return c
	}
	if c := cmp.Compare(rank(string(la.Severity)), rank(string(lb.Severity))); c != 0 {
		return c
	}
	return strings.Compare(a.Code, b.Code)
}

// lead is the row's most urgent tag: what the row says first and asks to do.
func (r Row) lead() Tag {
	if len(r.Tags) == 0 {
		return Tag{}
	}
	return slices.MinFunc(r.Tags, func(a, b Tag) int {
		if c := cmp.Compare(a.Kind.Urgency(), b.Kind.Urgency()); c != 0 {
			return c
		}
		return cmp.Compare(rank(string(a.Severity)), rank(string(b.Severity)))
	})
}

// digestView is what the digest templates see: never the applicant's
// unmasked data.
type digestView struct {
	Recipient Recipient
	RoleLabel string
	Agency    string
	Prefix    string
	AsOf      string // "10:30 ngày 06/12/2026"
	Total     int    // dossiers
	Counts    []count
	Earliest  string // the most urgent due date
	Rows      []rowView
	Omitted   int     // rows left out of the list, counted above
	ByDepart  []count // dossiers per department, when rows are left out
	ListURL   string
}

// count is a number of dossiers under a label.
type count struct {
	Label string
	N     int
}

// rowView is one dossier as a template shows it.
type rowView struct {
	Code, Procedure, Holder string
	Status                  string // what is late and by how much, or how much time is left
	Severity                string // of the lead tag: critical, warning, info
	Tags                    []string
	Action, Basis           string
	Due                     string
	Link, Console, AckLink  string
	Applicant, Phone        string
	New                     bool
}

// Render returns the email for d: a subject naming the agency and the count
// of dossiers per kind, and text and HTML bodies with one row per dossier,
// most urgent first, within the size budget.
func (r *Renderer) Render(d Digest) (subject, text, html string, err error) {
	if d.Total() == 0 {
		return "", "", "", errors.New("render email: digest has no rows")
	}
	if d.tally == nil { // Rows set directly are every row: count and order them as Add does
		all := Digest{MaxRows: len(d.Rows)}
		for _, row := range d.Rows {
			all.Add(row)
		}
		d.Rows, d.tally = all.Rows, all.tally
	}
	rows, t := d.Rows, d.tally
	return withinBudget(cmp.Or(d.MaxRows, DefaultMaxRows), func(listed int) (string, string, string, error) {
		return execute(r.subject, r.text, r.html, newDigestView(d, rows, t, listed), "email")
	})
}

// withinBudget renders with at most listed rows, halving them while the HTML
// exceeds MaxHTMLBytes: rows of extreme length are listed fewer, never
// clipped by the reader's mail client.
func withinBudget(listed int, render func(listed int) (subject, text, html string, err error)) (subject, text, html string, err error) {
	for {
		subject, text, html, err = render(listed)
		if err != nil || len(html) <= MaxHTMLBytes || listed <= 1 {
			return subject, text, html, err
		}
		listed /= 2
	}
}

// newDigestView shows the first listed of rows (most urgent first) and t's
// counts of every row.
func newDigestView(d Digest, rows []Row, t *tally, listed int) digestView {
	v := digestView{
		Recipient: d.Recipient, RoleLabel: roleLabels[d.Recipient.Role], Agency: d.Agency,
		Prefix: cmp.Or(d.Prefix, d.Agency, "dvcwatch"), AsOf: asOf(d.AsOf), Total: t.total, ListURL: d.ListURL,
	}
	v.Counts = t.kindCounts()
	for _, row := range rows[:min(listed, len(rows))] {
		v.Rows = append(v.Rows, newRowView(row))
	}
	if v.Omitted = t.total - len(v.Rows); v.Omitted > 0 {
		v.ByDepart = t.departmentCounts()
	}
	// Rows without a due date come last: the first row's due is the earliest.
	for _, row := range rows {
		if !row.DueAt.IsZero() {
			v.Earliest = row.DueAt.In(vietnam).Format(dateLayout)
			break
		}
	}
	return v
}

// kindCounts are the dossiers carrying each kind, the most urgent kind
// first; a dossier with two kinds counts once under each.
func (t *tally) kindCounts() []count {
	kinds := make([]dvcwatch.BreachKind, 0, len(t.kinds))
	for k := range t.kinds {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b dvcwatch.BreachKind) int {
		return cmp.Or(cmp.Compare(a.Urgency(), b.Urgency()), strings.Compare(string(a), string(b)))
	})
	out := make([]count, len(kinds))
	for i, k := range kinds {
		out[i] = count{Label: k.Vietnamese(), N: t.kinds[k]}
	}
	return out
}

// departmentCounts are the dossiers per department, the largest first.
func (t *tally) departmentCounts() []count {
	out := make([]count, 0, len(t.departments))
	for name, c := range t.departments {
		out = append(out, count{Label: name, N: c})
	}
	slices.SortFunc(out, func(a, b count) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Label, b.Label)) })
	return out
}

func newRowView(r Row) rowView {
	lead := r.lead()
	v := rowView{
		Code: r.Code, Procedure: r.Procedure, Severity: string(lead.Severity),
		Action: lead.Kind.Action(), Basis: lead.Kind.Basis(), Due: formatDay(r.DueAt),
		Link: r.Link, Console: r.Console, AckLink: r.AckLink, New: r.New,
		Applicant: MaskName(r.ApplicantName), Phone: MaskPhone(r.ApplicantPhone),
		Holder: strings.Join(slices.DeleteFunc([]string{r.Department, r.Official}, func(s string) bool { return s == "" }), " — "),
	}
	tags := slices.Clone(r.Tags)
	slices.SortStableFunc(tags, func(a, b Tag) int { return cmp.Compare(a.Kind.Urgency(), b.Kind.Urgency()) })
	for _, t := range tags {
		label := t.Kind.Vietnamese()
		if t.Step > 0 {
			label += " (bước " + strconv.Itoa(t.Step) + ")"
		}
		if !slices.Contains(v.Tags, label) {
			v.Tags = append(v.Tags, label)
		}
	}
	switch {
	case r.LateDays > 0:
		v.Status = "Quá hạn " + strconv.Itoa(r.LateDays) + " ngày làm việc"
		if !slices.ContainsFunc(r.Tags, func(t Tag) bool { return t.Kind != dvcwatch.BreachStepOverdue }) {
			v.Status = "Bước xử lý quá hạn " + strconv.Itoa(r.LateDays) + " ngày làm việc"
		}
	case r.HoursLeft > 0:
		v.Status = "Còn " + workingHours(r.HoursLeft) + " giờ làm việc"
	default:
		v.Status = lead.Kind.Vietnamese()
	}
	return v
}

// workingHours writes working time in hours the Vietnamese way: "4", "2,5".
func workingHours(d time.Duration) string {
	tenths := int((d + 3*time.Minute) / (6 * time.Minute))
	s := strconv.Itoa(tenths / 10)
	if tenths%10 != 0 {
		s += "," + strconv.Itoa(tenths%10)
	}
	return s
}

// asOf writes when the figures were read: "10:30 ngày 06/12/2026".
func asOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(vietnam)
	return t.Format("15:04") + " ngày " + t.Format(dateLayout)
}

func formatDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vietnam).Format(dateLayout)
}
