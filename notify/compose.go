package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

// Composer turns pending alerts into one digest email per recipient, and
// writes the office's daily summary.
type Composer struct {
	Dir      *Directory
	Renderer *email.Renderer
	// OfficeHoursOnly holds a recipient's alerts until their agency's office
	// hours: the alerts stay pending in SQL and the first pass in office hours
	// mails them.
	OfficeHoursOnly bool
}

// Compose returns the store.ComposeFunc of a pass at now.
func (c *Composer) Compose(now time.Time) store.ComposeFunc {
	return func(recipient string, alerts []dvcwatch.PendingAlert) (dvcwatch.NewNotification, bool, error) {
		p, ok := c.Dir.Person(recipient)
		if !ok || p.Email == "" {
			// Removed from the configuration since the alert was planned: the
			// alerts wait until the person is back or the breach resolves.
			return dvcwatch.NewNotification{}, false, nil
		}
		if c.OfficeHoursOnly && !c.Dir.InOfficeHours(p.Agency, now) {
			return dvcwatch.NewNotification{}, false, nil
		}
		d := email.Digest{
			Recipient: email.Recipient{Name: p.Name, Email: p.Email, Role: alerts[0].Role},
			Agency:    c.Dir.AgencyName(p.Agency),
		}
		ids := make([]int64, len(alerts))
		for i, a := range alerts {
			ids[i] = a.ID
			d.Items = append(d.Items, c.item(a.Breach, now))
		}
		subject, text, html, err := c.Renderer.Render(d)
		if err != nil {
			return dvcwatch.NewNotification{}, false, err
		}
		return dvcwatch.NewNotification{
			DedupeKey: "alerts:" + recipient + ":" + idsKey(ids),
			Kind:      dvcwatch.NotificationAlerts, Recipient: recipient, Email: p.Email,
			Subject: subject, Text: text, HTML: html, Items: len(d.Items),
		}, true, nil
	}
}

// idsKey identifies a set of alert ids: an alert is put into one email only,
// so the same set means the same email.
func idsKey(ids []int64) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write(strconv.AppendInt(nil, id, 10))
		h.Write([]byte{','})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// item describes one breach in an email; the renderer masks the applicant.
func (c *Composer) item(b dvcwatch.BreachDetail, now time.Time) email.Item {
	it := email.Item{
		Kind: string(b.Kind), KindLabel: b.Kind.Vietnamese(), Severity: string(b.Severity),
		Code: b.Key.Code, Procedure: b.ProcedureName,
		Department: c.Dir.DepartmentName(b.Agency, b.Department),
		Official:   b.Official, DueAt: b.DueAt, Link: c.Dir.DossierLink(b.Key.Code),
		ApplicantName: b.ApplicantName, ApplicantPhone: b.ApplicantPhone,
	}
	if p, ok := c.Dir.Person(b.Official); ok {
		it.Official = p.Name
	}
	if b.StepSeq > 0 {
		it.KindLabel = fmt.Sprintf("%s (bước %d)", it.KindLabel, b.StepSeq)
	}
	if !b.DueAt.IsZero() && now.After(b.DueAt) && b.Actionable {
		s := c.Dir.Schedule(b.Agency)
		if late, err := s.WorkingTimeBetween(b.DueAt, now); err == nil && late > 0 {
			it.OverdueBy = workingTime(late, s.Hours().DayLength())
		}
	}
	return it
}

// workingTime writes a working duration the way officials count it:
// "1 ngày 2,5 giờ làm việc", "3 giờ làm việc".
func workingTime(d, day time.Duration) string {
	// Count in tenths of an hour, so that rounding never shows "8 giờ" for
	// what is a whole day, nor "0 giờ" for a few minutes late.
	tenth := 6 * time.Minute
	n := max(int((d+tenth/2)/tenth), 1)
	perDay := max(int(day/tenth), 1)
	days, rest := n/perDay, n%perDay
	h := strconv.Itoa(rest/10) + "," + strconv.Itoa(rest%10)
	h = strings.TrimSuffix(h, ",0")
	switch {
	case days == 0:
		return h + " giờ làm việc"
	case rest == 0:
		return strconv.Itoa(days) + " ngày làm việc"
	default:
		return fmt.Sprintf("%d ngày %s giờ làm việc", days, h)
	}
}

// SummaryStore is what the office's summary reads and writes.
type SummaryStore interface {
	AgencyBreaches(ctx context.Context, agency string, since time.Time) ([]dvcwatch.BreachDetail, error)
	AddNotification(ctx context.Context, n dvcwatch.NewNotification, now time.Time) (int64, bool, error)
}

// Summarize writes, for every office person of every agency, the daily
// summary as of now: per department, the open overdue dossiers, the breaches
// detected in the 24 hours before now, and the late dossiers without an
// apology letter. One summary per person per day (Vietnam time): running it
// again the same day creates nothing. It returns the ids of the new
// notifications.
func (c *Composer) Summarize(ctx context.Context, st SummaryStore, now time.Time) ([]int64, error) {
	var created []int64
	day := now.In(sla.Location()).Format(time.DateOnly)
	agencies := c.Dir.Agencies()
	sort.Slice(agencies, func(i, j int) bool { return agencies[i].Code < agencies[j].Code })
	for _, a := range agencies {
		office := c.Dir.Office(a.Code)
		if len(office) == 0 {
			continue
		}
		breaches, err := st.AgencyBreaches(ctx, a.Code, now.Add(-24*time.Hour))
		if err != nil {
			return created, err
		}
		s := email.Summary{Agency: a.Name, Date: now}
		index := map[string]int{}
		section := func(dep string) *email.DepartmentSummary {
			i, ok := index[dep]
			if !ok {
				i = len(s.Departments)
				index[dep] = i
				s.Departments = append(s.Departments, email.DepartmentSummary{Name: c.Dir.DepartmentName(a.Code, dep)})
			}
			return &s.Departments[i]
		}
		// Every configured department appears, so "nothing late" is said too.
		for _, dep := range a.Departments {
			section(dep.Code)
		}
		cutoff := now.Add(-24 * time.Hour)
		items := 0
		for _, b := range breaches {
			sec := section(b.Department)
			it := c.item(b, now)
			open := b.ResolvedAt.IsZero()
			if open && b.Kind == dvcwatch.BreachOverdue {
				sec.Overdue = append(sec.Overdue, it)
				items++
			}
			if !b.DetectedAt.Before(cutoff) {
				sec.NewBreaches = append(sec.NewBreaches, it)
				items++
			}
			if open && b.Kind == dvcwatch.BreachNoApology {
				sec.MissingApology = append(sec.MissingApology, it)
				items++
			}
		}
		for _, p := range office {
			s.Recipient = email.Recipient{Name: p.Name, Email: p.Email, Role: dvcwatch.RoleOffice}
			subject, text, html, err := c.Renderer.RenderSummary(s)
			if err != nil {
				return created, err
			}
			id, isNew, err := st.AddNotification(ctx, dvcwatch.NewNotification{
				DedupeKey: "summary:" + p.ID + ":" + day, Kind: dvcwatch.NotificationSummary,
				Recipient: p.ID, Email: p.Email, Subject: subject, Text: text, HTML: html, Items: items,
			}, now)
			if err != nil {
				return created, err
			}
			if isNew {
				created = append(created, id)
			}
		}
	}
	return created, nil
}
