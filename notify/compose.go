package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Composer turns pending alerts into one digest email per recipient, and
// writes the office's daily summary.
type Composer struct {
	Dir      *directory.Directory
	Renderer *email.Renderer
	// OfficeHoursOnly holds a recipient's alerts until their agency's office
	// hours: the alerts stay pending in SQL and the first pass in office hours
	// mails them.
	OfficeHoursOnly bool
}

// ComposeFunc renders one recipient's pending alerts as an email; ok false
// leaves them pending (e.g. outside the recipient's office hours).
type ComposeFunc func(recipient string, alerts []dvcwatch.PendingAlert) (n dvcwatch.NewNotification, ok bool, err error)

// Compose returns the ComposeFunc of a pass at now.
func (c *Composer) Compose(now time.Time) ComposeFunc {
	return func(recipient string, alerts []dvcwatch.PendingAlert) (dvcwatch.NewNotification, bool, error) {
		p, ok := c.Dir.Person(recipient)
		if !ok || p.Email == "" {
			// Removed from the configuration since the alert was planned: the
			// alerts wait until the person is back or the breach resolves.
			return dvcwatch.NewNotification{}, false, nil
		}
		if c.OfficeHoursOnly && !c.Dir.InOfficeHours(p.AgencyCode, now) {
			return dvcwatch.NewNotification{}, false, nil
		}
		d := email.Digest{
			Recipient: email.Recipient{Name: p.Name, Email: p.Email, Role: alerts[0].Role},
			Agency:    c.Dir.AgencyName(p.AgencyCode),
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

// OutboxTx is the part of one store transaction that storing digests writes
// through.
type OutboxTx interface {
	// DropResolvedAlerts deletes the pending alerts of breaches resolved
	// since they were decided: there is nothing left to tell.
	DropResolvedAlerts(ctx context.Context) error
	AddNotification(ctx context.Context, n dvcwatch.NewNotification, now time.Time) (id int64, created bool, err error)
	// AssignAlerts marks pending alerts as told by a notification and says
	// how many were still pending.
	AssignAlerts(ctx context.Context, ids []int64, notification int64) (int, error)
}

// ComposeStore is what composing digests reads and writes.
type ComposeStore interface {
	// PendingRecipients and PendingAlerts read the alerts not yet in an
	// email, of breaches still unresolved.
	PendingRecipients(ctx context.Context) ([]string, error)
	PendingAlerts(ctx context.Context, recipient string) ([]dvcwatch.PendingAlert, error)
	InTx(ctx context.Context, fn func(OutboxTx) error) error
}

// OutboxTxOf makes the InTx of a ComposeStore from a store's InTx whose
// transactions (T) have the methods of OutboxTx, e.g. OutboxTxOf(db.InTx) for
// a *store.DB.
func OutboxTxOf[T OutboxTx](inTx func(context.Context, func(T) error) error) func(context.Context, func(OutboxTx) error) error {
	return func(ctx context.Context, fn func(OutboxTx) error) error {
		return inTx(ctx, func(tx T) error { return fn(tx) })
	}
}

// errAlertsTaken means another composer put some of a digest's alerts into
// an email meanwhile; nothing is written, and the next pass composes again.
var errAlertsTaken = errors.New("alerts taken by another composer meanwhile")

// ComposeWith renders every recipient's pending alerts with compose, one
// recipient at a time, then stores the emails and marks their alerts told in
// one transaction: rendering never holds the database's writer (SQLite has
// one), and a failure anywhere stores nothing. It returns the ids of the
// notifications created; the caller enqueues them after the commit (and the
// dispatcher does if the caller dies first).
func ComposeWith(ctx context.Context, st ComposeStore, now time.Time, compose ComposeFunc) ([]int64, error) {
	recipients, err := st.PendingRecipients(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose notifications: %w", err)
	}
	type digest struct {
		n      dvcwatch.NewNotification
		alerts []int64
	}
	var digests []digest
	for _, recipient := range recipients {
		alerts, err := st.PendingAlerts(ctx, recipient)
		if err != nil || len(alerts) == 0 {
			if err != nil {
				return nil, fmt.Errorf("compose notifications: %w", err)
			}
			continue // resolved since the recipients were read
		}
		n, ok, err := compose(recipient, alerts)
		if err != nil {
			return nil, fmt.Errorf("compose notifications: compose email to %s: %w", recipient, err)
		}
		if !ok {
			continue
		}
		ids := make([]int64, len(alerts))
		for i, a := range alerts {
			ids[i] = a.ID
		}
		digests = append(digests, digest{n, ids})
	}
	var created []int64
	err = st.InTx(ctx, func(tx OutboxTx) error {
		created = nil
		if err := tx.DropResolvedAlerts(ctx); err != nil {
			return err
		}
		for _, d := range digests {
			id, isNew, err := tx.AddNotification(ctx, d.n, now)
			if err != nil {
				return err
			}
			if isNew {
				created = append(created, id)
			}
			assigned, err := tx.AssignAlerts(ctx, d.alerts, id)
			if err != nil {
				return err
			}
			if assigned != len(d.alerts) {
				return fmt.Errorf("email to %s: %w", d.n.Recipient, errAlertsTaken)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compose notifications: %w", err)
	}
	return created, nil
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
