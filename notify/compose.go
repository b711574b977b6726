package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"iter"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
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
	// MaxRows bounds the dossiers one email lists (email.DefaultMaxRows if
	// zero); the counts cover them all, and ConsoleURL's list shows them.
	MaxRows int
	// SubjectPrefix starts every subject; "" uses the agency's short name.
	SubjectPrefix string
	// ConsoleURL is the admin console's public address, for links to it;
	// "" sends none.
	ConsoleURL string
	// Acks signs each digest row's acknowledge link; nil sends none.
	Acks AckLinker
	// Workbook makes the workbook attached to the monthly results; nil
	// attaches none.
	Workbook MonthlyWorkbook
}

// AckLinker signs the link by which a recipient acknowledges a row's
// breaches from the mail (acklink.Links); "" when links are off.
type AckLinker interface {
	Link(recipient string, breaches []dvcwatch.BreachRef, now time.Time) string
}

// ComposeFunc renders one recipient's pending alerts as an email; ok false
// leaves them pending (e.g. outside the recipient's office hours, or when
// there are none). It reads alerts once, a dossier's together (see
// ComposeStore.PendingAlerts), and to the end when it returns ok: the email
// tells every alert it was given.
type ComposeFunc func(recipient string, alerts iter.Seq[dvcwatch.PendingAlert]) (n dvcwatch.NewNotification, ok bool, err error)

// Compose returns the ComposeFunc of a pass at now. It holds one dossier's
// alerts at a time and the rows the email lists (email.Digest.Add), however
// many alerts the recipient has.
func (c *Composer) Compose(now time.Time) ComposeFunc {
	return func(recipient string, alerts iter.Seq[dvcwatch.PendingAlert]) (dvcwatch.NewNotification, bool, error) {
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
			Recipient: email.Recipient{Name: p.Name, Email: p.Email},
			Agency:    c.Dir.AgencyName(p.AgencyCode), Prefix: c.prefix(p.AgencyCode), AsOf: now,
			MaxRows: c.MaxRows, ListURL: c.listURL(recipient),
		}
		key := newIDsKey()
		first := int64(0) // the earliest alert decided, whose role the email speaks to
		var dossier []dvcwatch.BreachDetail
		add := func() {
			if len(dossier) == 0 {
				return
			}
			row := c.rows(dossier, now, time.Time{})[0]
			if c.Acks != nil {
				row.AckLink = c.Acks.Link(recipient, refs(dossier, row.Code), now)
			}
			d.Add(row)
			dossier = dossier[:0]
		}
		for a := range alerts {
			key.add(a.ID)
			if first == 0 || a.ID < first {
				first, d.Recipient.Role = a.ID, a.Role
			}
			if len(dossier) > 0 && dossier[0].Key != a.Breach.Key {
				add()
			}
			dossier = append(dossier, a.Breach)
		}
		add()
		if d.Total() == 0 {
			return dvcwatch.NewNotification{}, false, nil
		}
		subject, text, html, err := c.Renderer.Render(d)
		if err != nil {
			return dvcwatch.NewNotification{}, false, err
		}
		return dvcwatch.NewNotification{
			DedupeKey: "alerts:" + recipient + ":" + key.String(),
			Kind:      dvcwatch.NotificationAlerts, Recipient: recipient, Email: p.Email,
			Subject: subject, Text: text, HTML: html, Items: d.Total(),
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
	// email, of breaches still unresolved; PendingAlerts yields them as it
	// reads them, a dossier's together.
	PendingRecipients(ctx context.Context) ([]string, error)
	PendingAlerts(ctx context.Context, recipient string) iter.Seq2[dvcwatch.PendingAlert, error]
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
		// The ids of the alerts compose reads, to mark them told: 8 bytes
		// an alert, the one thing kept of them.
		var ids []int64
		var readErr error
		alerts := func(yield func(dvcwatch.PendingAlert) bool) {
			for a, err := range st.PendingAlerts(ctx, recipient) {
				if err != nil {
					readErr = err
					return
				}
				ids = append(ids, a.ID)
				if !yield(a) {
					return
				}
			}
		}
		n, ok, err := compose(recipient, alerts)
		if readErr != nil {
			return nil, fmt.Errorf("compose notifications: %w", readErr)
		}
		if err != nil {
			return nil, fmt.Errorf("compose notifications: compose email to %s: %w", recipient, err)
		}
		if !ok || len(ids) == 0 {
			continue // not now, or resolved since the recipients were read
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

// idsKey identifies a set of alert ids, added in the order the store
// yields them: an alert is put into one email only, so the same set means
// the same email.
type idsKey struct {
	h   hash.Hash
	buf []byte
}

func newIDsKey() *idsKey { return &idsKey{h: sha256.New()} }

func (k *idsKey) add(id int64) {
	k.buf = append(strconv.AppendInt(k.buf[:0], id, 10), ',')
	k.h.Write(k.buf)
}

func (k *idsKey) String() string { return hex.EncodeToString(k.h.Sum(nil))[:24] }

// rows turns breaches into one row per dossier, in the order first met, each
// with every breach of it as a tag; the row speaks of its most urgent breach:
// its due, who holds the dossier, how late it is or how much time is left.
// A breach detected at or after since marks its row new (zero: none).
func (c *Composer) rows(bs []dvcwatch.BreachDetail, now, since time.Time) []email.Row {
	rb := c.newRowBuilder(now, since)
	for _, b := range bs {
		rb.add(b)
	}
	return rb.finish()
}

// rowBuilder folds breaches, in any order, into one row per dossier: its
// tags, whether any is new since, and the due date, department, official and
// urgency of its most urgent breach (the lead).
type rowBuilder struct {
	c          *Composer
	now, since time.Time
	index      map[dvcwatch.DossierKey]int
	rows       []email.Row
	leads      []dvcwatch.BreachDetail
}

func (c *Composer) newRowBuilder(now, since time.Time) *rowBuilder {
	return &rowBuilder{c: c, now: now, since: since, index: map[dvcwatch.DossierKey]int{}}
}

func (rb *rowBuilder) add(b dvcwatch.BreachDetail) {
	i, ok := rb.index[b.Key]
	if !ok {
		i = len(rb.rows)
		rb.index[b.Key] = i
		rb.rows = append(rb.rows, email.Row{
			Code: b.Key.Code, Procedure: b.ProcedureName, Link: rb.c.Dir.DossierLink(b.Key.Code), Console: rb.c.dossierURL(b.Key),
			ApplicantName: b.ApplicantName, ApplicantPhone: b.ApplicantPhone,
		})
		rb.leads = append(rb.leads, b)
	}
	rb.rows[i].Tags = append(rb.rows[i].Tags, email.Tag{Kind: b.Kind, Severity: b.Severity, Step: b.StepSeq})
	if !rb.since.IsZero() && !b.DetectedAt.Before(rb.since) {
		rb.rows[i].New = true
	}
	if rb.leads[i].Kind.Urgency() > b.Kind.Urgency() {
		rb.leads[i] = b
	}
}

// finish fills each row from its lead and returns the rows, in the order
// their dossiers first came.
func (rb *rowBuilder) finish() []email.Row {
	c := rb.c
	for i, lead := range rb.leads {
		r := &rb.rows[i]
		r.DueAt = lead.DueAt
		r.Department = c.Dir.DepartmentName(lead.Agency, lead.Department)
		r.Official = lead.Official
		if p, ok := c.Dir.Person(lead.Official); ok {
			r.Official = p.Name
		}
		r.LateDays, r.HoursLeft = c.urgency(lead, rb.now)
	}
	return rb.rows
}

// refs are the breaches of dossier code among bs, at the severity mailed.
func refs(bs []dvcwatch.BreachDetail, code string) []dvcwatch.BreachRef {
	var out []dvcwatch.BreachRef
	for _, b := range bs {
		if b.Key.Code == code {
			out = append(out, dvcwatch.BreachRef{ID: b.ID, Severity: b.Severity})
		}
	}
	return out
}

// lateKinds are the kinds of a dossier, or a step, past its due now.
var lateKinds = map[dvcwatch.BreachKind]bool{
	dvcwatch.BreachOverdue: true, dvcwatch.BreachNoApology: true, dvcwatch.BreachNewDateMissed: true,
	dvcwatch.BreachStepOverdue: true,
}

// urgency says how many working days past its due date an open dossier is,
// or, due soon, how much working time it has left; as the rules judge
// lateness, by date.
func (c *Composer) urgency(b dvcwatch.BreachDetail, now time.Time) (lateDays int, left time.Duration) {
	if !b.Actionable || b.DueAt.IsZero() {
		return 0, 0
	}
	s := c.Dir.Schedule(b.Agency)
	switch {
	case lateKinds[b.Kind]:
		if n, err := s.WorkingDaysAfter(b.DueAt, now); err == nil {
			return n, 0
		}
	case b.Kind == dvcwatch.BreachDueSoon:
		if w, err := s.WorkingTimeBetween(now, s.Closing(b.DueAt)); err == nil && w > 0 {
			return 0, w
		}
	}
	return 0, 0
}

// prefix is the subject prefix of an agency's mail: the configured one, else
// the agency's short name, else its name.
func (c *Composer) prefix(agency string) string {
	if c.SubjectPrefix != "" {
		return c.SubjectPrefix
	}
	return c.Dir.AgencyShortName(agency)
}

// listURL is the admin console's list of what recipient was told of, "" when
// the console's address is not configured.
func (c *Composer) listURL(recipient string) string {
	if c.ConsoleURL == "" {
		return ""
	}
	return strings.TrimSuffix(c.ConsoleURL, "/") + "/#/breaches?recipient=" + url.QueryEscape(recipient)
}

// dossierURL is the dossier's page in the admin console, "" when the
// console's address is not configured.
func (c *Composer) dossierURL(k dvcwatch.DossierKey) string {
	if c.ConsoleURL == "" {
		return ""
	}
	return strings.TrimSuffix(c.ConsoleURL, "/") + "/#/dossiers/" + url.PathEscape(k.Source) + "/" + url.PathEscape(k.Code)
}

// SummaryStore is what the office's summary reads and writes.
type SummaryStore interface {
	// AgencyBreaches yields the agency's unresolved breaches and those
	// detected at or after since, resolved or not, as it reads them.
	AgencyBreaches(ctx context.Context, agency string, since time.Time) iter.Seq2[dvcwatch.BreachDetail, error]
	// LastSent returns as of when the latest email of kind that reached
	// recipient was composed; ok is false when none was sent.
	LastSent(ctx context.Context, recipient string, kind dvcwatch.NotificationKind) (at time.Time, ok bool, err error)
	// HasNotification says whether a notification with dedupeKey is stored.
	HasNotification(ctx context.Context, dedupeKey string) (bool, error)
	outboxAdder
}

// Summarize writes, for every office person of every agency, the daily
// summary as of now: per department, how many dossiers are overdue, due
// soon, have a breach first detected since the previous summary sent to that
// person (or in the 24 hours before now, for a first one), or are late
// without an apology letter; the most urgent of them in the body, all of
// them in an attached workbook. One summary per person per day (Vietnam
// time): running it again the same day creates nothing. It returns the ids of
// the new notifications.
func (c *Composer) Summarize(ctx context.Context, st SummaryStore, now time.Time) ([]int64, error) {
	var created []int64
	day := now.In(sla.Location()).Format(time.DateOnly)
	agencies := c.Dir.Agencies()
	sort.Slice(agencies, func(i, j int) bool { return agencies[i].Code < agencies[j].Code })
	for _, a := range agencies {
		for _, p := range c.Dir.Office(a.Code) {
			key := "summary:" + p.ID + ":" + day
			// Today's is written already (a second run, a retry after a
			// failure further on): composing it again, a province's workbook
			// included, would only be thrown away.
			done, err := st.HasNotification(ctx, key)
			if err != nil {
				return created, err
			}
			if done {
				continue
			}
			since, ok, err := st.LastSent(ctx, p.ID, dvcwatch.NotificationSummary)
			if err != nil {
				return created, err
			}
			if !ok {
				since = now.Add(-24 * time.Hour)
			}
			n, err := c.summary(ctx, st, a, p, now, since)
			if err != nil {
				return created, err
			}
			n.DedupeKey = key
			if created, err = addNew(ctx, st, n, now, created); err != nil {
				return created, err
			}
		}
	}
	return created, nil
}

// outboxAdder is the store method the summaries and the monthly results
// write their emails with.
type outboxAdder interface {
	AddNotification(ctx context.Context, n dvcwatch.NewNotification, now time.Time) (int64, bool, error)
}

// addNew puts n in the outbox and appends its id to created when it is new,
// not an email already written under its dedupe key.
func addNew(ctx context.Context, st outboxAdder, n dvcwatch.NewNotification, now time.Time, created []int64) ([]int64, error) {
	id, isNew, err := st.AddNotification(ctx, n, now)
	if err != nil {
		return created, err
	}
	if isNew {
		created = append(created, id)
	}
	return created, nil
}

// summary composes one office person's summary of agency a.
func (c *Composer) summary(ctx context.Context, st SummaryStore, a config.Agency, p dvcwatch.Official, now, since time.Time) (dvcwatch.NewNotification, error) {
	s := email.Summary{
		Recipient: email.Recipient{Name: p.Name, Email: p.Email, Role: dvcwatch.RoleOffice},
		Agency:    a.Name, Prefix: c.prefix(a.Code), Date: now, AsOf: now, ListURL: c.listURL(p.ID),
		TopRows: c.MaxRows,
	}
	// Every configured department appears, so "nothing late" is said too.
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
	for _, dep := range a.Departments {
		section(dep.Code)
	}
	// Each dossier counts once per column, under the department of the
	// breach that puts it there.
	type mark struct {
		key    dvcwatch.DossierKey
		column string
	}
	counted := map[mark]bool{}
	tally := func(b dvcwatch.BreachDetail, column string, n *int) {
		if m := (mark{b.Key, column}); !counted[m] {
			counted[m] = true
			*n++
		}
	}
	// The breaches are folded into rows as the store reads them: only the
	// rows are held, not the agency's breaches besides.
	listed := c.newRowBuilder(now, since)
	for b, err := range st.AgencyBreaches(ctx, a.Code, since) {
		if err != nil {
			return dvcwatch.NewNotification{}, err
		}
		open := b.ResolvedAt.IsZero() && b.Actionable
		fresh := !b.DetectedAt.Before(since)
		sec := section(b.Department)
		switch {
		case open && b.Kind == dvcwatch.BreachOverdue:
			tally(b, "overdue", &sec.Overdue)
		case open && b.Kind == dvcwatch.BreachDueSoon:
			tally(b, "due_soon", &sec.DueSoon)
		case open && b.Kind == dvcwatch.BreachNoApology:
			tally(b, "no_apology", &sec.MissingApology)
		}
		if fresh {
			tally(b, "new", &sec.New)
		}
		if fresh || (open && lateKinds[b.Kind]) || (open && b.Kind == dvcwatch.BreachDueSoon) {
			listed.add(b)
		}
	}
	s.Rows = listed.finish()
	n := dvcwatch.NewNotification{Kind: dvcwatch.NotificationSummary, Recipient: p.ID, Email: p.Email, Items: len(s.Rows)}
	if len(s.Rows) > cmp.Or(s.TopRows, email.DefaultMaxRows) {
		s.Attached = "tong-hop-" + now.In(sla.Location()).Format(time.DateOnly) + ".xlsx"
		data, err := email.SummaryWorkbook(s)
		if err != nil {
			return n, err
		}
		n.Attachment = &dvcwatch.Attachment{Name: s.Attached, Type: email.WorkbookType, Data: data}
	}
	subject, text, html, err := c.Renderer.RenderSummary(s)
	n.Subject, n.Text, n.HTML = subject, text, html
	return n, err
}
