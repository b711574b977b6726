package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/breach"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

// The dossier page's answer: a dossier's facts with the applicant masked as
// the mails mask it (initials, the phone's last three digits; never the raw
// name, phone, email or ID number, not even inside the portal's free text),
// its history, steps as the rules read them, supplement rounds, apologies,
// the due and how the rules found it, its breaches and the emails that told
// of them. Times are in Asia/Ho_Chi_Minh; days are written YYYY-MM-DD.

// Named is a code and the name configured or reported for it; the name is
// the code when none is known.
type Named struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Person is an official: the configured id (or the name a portal gave, when
// no configured official matches it) and the name.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Labelled is a portal's number and what it means in Vietnamese.
type Labelled struct {
	Code  int    `json:"code"`
	Label string `json:"label"`
}

// StatusView is a national status code (TrangThaiHoSo): its number, its
// stable name, its Vietnamese name, and the source system's own status.
type StatusView struct {
	Code  int    `json:"code"`
	Name  string `json:"name"`
	Label string `json:"label"`
	Raw   string `json:"raw,omitempty"`
}

// Applicant is the applicant as the mails show it, masked.
type Applicant struct {
	Name  string `json:"name"`  // initials, e.g. "N. V. A."
	Phone string `json:"phone"` // the last three digits, e.g. "*******789"
}

// DossierDates are the portal's dates of a dossier.
type DossierDates struct {
	Submitted     *time.Time `json:"submitted,omitempty"`      // NgayNopHoSo
	Received      *time.Time `json:"received,omitempty"`       // NgayTiepNhan
	Due           *time.Time `json:"due,omitempty"`            // NgayHenTra: the appointment on the receipt
	Processed     *time.Time `json:"processed,omitempty"`      // NgayKetThucXuLy
	Returned      *time.Time `json:"returned,omitempty"`       // NgayTra
	Refused       *time.Time `json:"refused,omitempty"`        // NgayTuChoi
	SourceUpdated *time.Time `json:"source_updated,omitempty"` // when the source last changed it
}

// StatusChange is one change of status dvcwatch observed.
type StatusChange struct {
	From       *StatusView `json:"from,omitempty"` // absent when the dossier was first seen
	To         StatusView  `json:"to"`
	At         time.Time   `json:"at"`
	ObservedBy string      `json:"observed_by"`
}

// Interval is a span of time; End is absent while it lasts.
type Interval struct {
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end,omitempty"`
}

// StepView is a step as the rules read the progress updates (see
// breach.StepReading), with its updates.
type StepView struct {
	Seq        int          `json:"seq"`
	Official   Person       `json:"official"`
	Department Named        `json:"department"`
	StartedAt  *time.Time   `json:"started_at,omitempty"`
	DueAt      *time.Time   `json:"due_at,omitempty"` // NgayKetThucTheoQuyDinh
	EndedAt    *time.Time   `json:"ended_at,omitempty"`
	InProgress bool         `json:"in_progress"`
	Updates    []StepUpdate `json:"updates"`
}

// StepUpdate is one progress update as the portal reported it.
type StepUpdate struct {
	Seq        int        `json:"seq"`
	Official   string     `json:"official"` // NguoiXuLy, as given
	Title      string     `json:"title,omitempty"`
	Department string     `json:"department,omitempty"`
	Content    string     `json:"content,omitempty"`
	State      string     `json:"state,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	At         *time.Time `json:"at,omitempty"` // ThoiDiemXuLy
	DueAt      *time.Time `json:"due_at,omitempty"`
}

// SupplementView is one supplement round.
type SupplementView struct {
	Seq         int        `json:"seq"`
	RequestedAt *time.Time `json:"requested_at,omitempty"` // NgayBoSung
	ReturnedAt  *time.Time `json:"returned_at,omitempty"`  // NgayTiepNhanBoSung
	DueBefore   *time.Time `json:"due_before,omitempty"`   // NgayHenTraTruoc
	DueAfter    *time.Time `json:"due_after,omitempty"`    // NgayHenTraMoi
}

// ApologyView is one apology letter with its new appointment.
type ApologyView struct {
	Seq      int        `json:"seq"`
	IssuedAt *time.Time `json:"issued_at,omitempty"`
	NewDueAt *time.Time `json:"new_due_at,omitempty"`
	IssuedBy string     `json:"issued_by,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// DueView is breach.Explanation: which due the rules judge the dossier
// against, and how they found it.
type DueView struct {
	Basis            string           `json:"basis"` // none, appointment, computed, supplement_appointment, restart
	DueAt            *time.Time       `json:"due_at,omitempty"`
	Round            int              `json:"round,omitempty"`
	ComparedBy       string           `json:"compared_by"` // date or minute
	Limit            string           `json:"limit,omitempty"`
	SupplementPauses bool             `json:"supplement_pauses"`
	CountFrom        *time.Time       `json:"count_from,omitempty"`
	CountRound       int              `json:"count_round,omitempty"`
	Moves            []MoveView       `json:"moves"`
	Open             bool             `json:"open"`
	EndAt            *time.Time       `json:"end_at,omitempty"`
	WaitingSince     *time.Time       `json:"waiting_since,omitempty"`
	Stopped          bool             `json:"stopped"`
	Legal            *ComputationView `json:"legal,omitempty"`
}

// MoveView is one step of finding the due (breach.Move).
type MoveView struct {
	Kind          string     `json:"kind"`
	Round         int        `json:"round,omitempty"`
	Start         *time.Time `json:"start,omitempty"`
	End           *time.Time `json:"end,omitempty"`
	Before        *time.Time `json:"before,omitempty"`
	Due           *time.Time `json:"due,omitempty"`
	PausedMinutes int        `json:"paused_minutes,omitempty"` // office time
	AddedDays     int        `json:"added_days,omitempty"`     // working days, by date
}

// ComputationView is the computed legal due and how it was reached
// (sla.Computation), with the office hours it was counted in.
type ComputationView struct {
	Received          time.Time     `json:"received"`
	Counting          string        `json:"counting"`
	Limit             string        `json:"limit"`
	ReceiptDay        string        `json:"receipt_day"`
	ReceiptMoved      string        `json:"receipt_moved,omitempty"` // after_cutoff, non_working_day
	Start             *time.Time    `json:"start,omitempty"`         // office time counted from
	OfficeTimeMinutes int           `json:"office_time_minutes,omitempty"`
	FirstDay          string        `json:"first_day"`
	LastDay           string        `json:"last_day"`
	Days              int           `json:"days"`
	Skipped           []SkippedView `json:"skipped"`
	Pauses            []PauseView   `json:"pauses"`
	PausedMinutes     int           `json:"paused_minutes,omitempty"`
	AddedDays         int           `json:"added_days,omitempty"`
	Due               time.Time     `json:"due"`
	OfficeHours       []string      `json:"office_hours"` // e.g. 07:30-11:30
	Cutoff            string        `json:"cutoff"`       // e.g. 17:00
}

// SkippedView is a non-working day the computation passed over, with its
// name.
type SkippedView struct {
	Date   string `json:"date"`
	Skip   string `json:"skip"` // receipt, not_counted, period_end
	Kind   string `json:"kind"` // weekend, holiday, compensatory, …
	Name   string `json:"name"`
	Source string `json:"source,omitempty"`
}

// PauseView is a pause as the computation counted it.
type PauseView struct {
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	CountedMinutes int       `json:"counted_minutes"`
}

// DossierBreach is a breach of the dossier, open or resolved, with the
// silence muting it and its acknowledgements.
type DossierBreach struct {
	ID             int64      `json:"id"`
	Kind           string     `json:"kind"`
	Label          string     `json:"label"`
	Step           int        `json:"step,omitempty"`
	Severity       string     `json:"severity"`
	SeverityLabel  string     `json:"severity_label"`
	Department     Named      `json:"department"`
	Official       Person     `json:"official"`
	StartedAt      time.Time  `json:"started_at"`
	DueAt          *time.Time `json:"due_at,omitempty"`
	Detail         string     `json:"detail"`
	DetectedAt     time.Time  `json:"detected_at"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	ResolvedReason string     `json:"resolved_reason,omitempty"` // ended, rule_changed
	// Silence is the active silence muting the breach: it is recorded, and
	// nobody is told of it.
	Silence *Silence  `json:"silence,omitempty"`
	Acks    []AckView `json:"acks"`
}

// AckView is an official's acknowledgement of a breach.
type AckView struct {
	Official Person    `json:"official"`
	Severity string    `json:"severity"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// DossierEmail is an email that told of some of the dossier's breaches.
type DossierEmail struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Recipient Person     `json:"recipient"`
	Subject   string     `json:"subject"`
	State     string     `json:"state"` // pending, sending, sent, failed
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
	Breaches  []int64    `json:"breaches"` // the ids of the dossier's breaches it told of
}

// DossierPage is GET /api/v1/dossiers/{source}/{code}.
type DossierPage struct {
	Source            string           `json:"source"`
	Code              string           `json:"code"`
	ReceiptNo         string           `json:"receipt_no,omitempty"`
	Procedure         Named            `json:"procedure"`
	Field             Named            `json:"field"`
	Agency            Named            `json:"agency"`
	Channel           Labelled         `json:"channel"`
	ApplicantKind     Labelled         `json:"applicant_kind"`
	Applicant         Applicant        `json:"applicant"`
	Status            StatusView       `json:"status"`
	Dates             DossierDates     `json:"dates"`
	PaidOnline        bool             `json:"paid_online"`
	HasDigitizedParts bool             `json:"has_digitized_parts"`
	History           []StatusChange   `json:"history"`
	PaymentWaits      []Interval       `json:"payment_waits"`
	Steps             []StepView       `json:"steps"`
	Supplements       []SupplementView `json:"supplements"`
	Apologies         []ApologyView    `json:"apologies"`
	// Due is how the rules found the due; absent with DueError when it
	// could not be worked out.
	Due          *DueView        `json:"due,omitempty"`
	DueError     string          `json:"due_error,omitempty"`
	Breaches     []DossierBreach `json:"breaches"`
	Emails       []DossierEmail  `json:"emails"`
	OtherSources []string        `json:"other_sources"` // the other sources holding the same code
}

// DossierMatch is a dossier found by its code.
type DossierMatch struct {
	Source     string     `json:"source"`
	Code       string     `json:"code"`
	ReceiptNo  string     `json:"receipt_no,omitempty"`
	Procedure  Named      `json:"procedure"`
	Agency     Named      `json:"agency"`
	Status     StatusView `json:"status"`
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	DueAt      *time.Time `json:"due_at,omitempty"`
}

// findDossiers answers GET /api/v1/dossiers?code=: the dossiers holding the
// code in every source. A code typed in lower case finds the upper-case one.
func (s *Server) findDossiers(w http.ResponseWriter, r *http.Request, _ Principal) error {
	code := dossierCode(r.URL.Query().Get("code"))
	if code == "" {
		return badRequest("code: required, a dossier code (MaHoSo)")
	}
	ds, err := s.dossiersByCode(r.Context(), code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(ds, func(d dvcwatch.Dossier) DossierMatch {
		return DossierMatch{Source: d.Key.Source, Code: d.Key.Code, ReceiptNo: d.ReceiptNo,
			Procedure: Named{d.ProcedureCode, cmp.Or(d.ProcedureName, d.ProcedureCode)}, Agency: s.agency(d.Agency),
			Status: statusView(d.Status, d.RawStatus), ReceivedAt: local(d.ReceivedAt), DueAt: local(d.DueAt)}
	}))
	return nil
}

// dossierCode is a code as typed: trimmed, in NFC as the portals' text is
// stored.
func dossierCode(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

func (s *Server) dossiersByCode(ctx context.Context, code string) ([]dvcwatch.Dossier, error) {
	ds, err := s.opts.Store.DossiersByCode(ctx, code)
	if err != nil || len(ds) > 0 || strings.ToUpper(code) == code {
		return ds, err
	}
	return s.opts.Store.DossiersByCode(ctx, strings.ToUpper(code))
}

// getDossier answers GET /api/v1/dossiers/{source}/{code}.
func (s *Server) getDossier(w http.ResponseWriter, r *http.Request, _ Principal) error {
	ctx := r.Context()
	key := dvcwatch.DossierKey{Source: r.PathValue("source"), Code: dossierCode(r.PathValue("code"))}
	f, err := s.opts.Store.DossierFile(ctx, key)
	if err != nil {
		if !errors.Is(err, dvcwatch.ErrNotFound) {
			return err
		}
		msg := fmt.Sprintf("dossier %s not found: no dossier with code %q from source %q", key, key.Code, key.Source)
		if others, err := s.dossiersByCode(ctx, key.Code); err == nil && len(others) > 0 {
			var keys []string
			for _, d := range others {
				keys = append(keys, d.Key.String())
			}
			msg += "; found: " + strings.Join(keys, ", ")
		}
		return notFound("%s", msg)
	}
	now := s.now()
	silences, err := s.opts.Store.ActiveSilences(ctx, now)
	if err != nil {
		return err
	}
	page := s.dossierPage(f, silences, now)
	if others, err := s.opts.Store.DossiersByCode(ctx, key.Code); err == nil {
		for _, d := range others {
			if d.Key != key {
				page.OtherSources = append(page.OtherSources, d.Key.Source)
			}
		}
	} else {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// dossierPage builds the page of f as of now, silences being those active.
func (s *Server) dossierPage(f store.DossierFile, silences []dvcwatch.Silence, now time.Time) DossierPage {
	d := f.Dossier
	mask := email.NewMasker(d.Applicant)
	p := DossierPage{
		Source: d.Key.Source, Code: d.Key.Code, ReceiptNo: d.ReceiptNo,
		Procedure: Named{d.ProcedureCode, cmp.Or(mask.Text(d.ProcedureName), d.ProcedureCode)},
		Field:     Named{d.FieldCode, cmp.Or(d.FieldName, d.FieldCode)},
		Agency:    s.agency(d.Agency),
		Channel:   Labelled{int(d.Channel), d.Channel.Vietnamese()}, ApplicantKind: Labelled{int(d.ApplicantKind), d.ApplicantKind.Vietnamese()},
		Applicant: Applicant{Name: email.MaskName(d.Applicant.Name), Phone: email.MaskPhone(d.Applicant.Phone)},
		Status:    statusView(d.Status, mask.Text(d.RawStatus)),
		Dates: DossierDates{Submitted: local(d.SubmittedAt), Received: local(d.ReceivedAt), Due: local(d.DueAt),
			Processed: local(d.ProcessedAt), Returned: local(d.ReturnedAt), Refused: local(d.RefusedAt),
			SourceUpdated: local(d.SourceUpdatedAt)},
		PaidOnline: d.PaidOnline, HasDigitizedParts: d.HasDigitizedParts,
		History: views(f.Events, func(e dvcwatch.StatusEvent) StatusChange {
			c := StatusChange{To: statusView(e.To, mask.Text(e.RawTo)), At: e.At.In(sla.Location()), ObservedBy: e.Source}
			if e.From != 0 {
				from := statusView(e.From, mask.Text(e.RawFrom))
				c.From = &from
			}
			return c
		}),
		PaymentWaits: views(d.PaymentWaits, func(w dvcwatch.Wait) Interval {
			return Interval{Start: w.Start.In(sla.Location()), End: local(w.End)}
		}),
		Supplements: views(d.Supplements, func(x dvcwatch.Supplement) SupplementView {
			return SupplementView{Seq: x.Seq, RequestedAt: local(x.RequestedAt), ReturnedAt: local(x.ReturnedAt),
				DueBefore: local(x.DueBefore), DueAfter: local(x.DueAfter)}
		}),
		Apologies: views(d.Apologies, func(a dvcwatch.Apology) ApologyView {
			return ApologyView{Seq: a.Seq, IssuedAt: local(a.IssuedAt), NewDueAt: local(a.NewDueAt),
				IssuedBy: mask.Text(a.IssuedBy), Reason: mask.Text(a.Reason)}
		}),
		Steps:        []StepView{},
		OtherSources: []string{},
	}
	if s.opts.Rules == nil {
		p.DueError = "this server has no rules to explain the due with"
	} else {
		rules := s.opts.Rules(d.Agency)
		x, err := rules.Explain(d)
		if err != nil {
			p.DueError = err.Error()
		} else {
			p.Due = dueView(x, rules.Schedule.Hours())
			p.Steps = views(x.Steps, func(st breach.StepReading) StepView { return s.stepView(d.Agency, st, mask) })
		}
	}
	acks := map[int64][]AckView{}
	for _, a := range f.Acks {
		acks[a.BreachID] = append(acks[a.BreachID], AckView{Official: s.person(a.Official), Severity: string(a.Severity),
			Reason: mask.Text(a.Reason), At: a.At.In(sla.Location())})
	}
	p.Breaches = views(f.Breaches, func(b dvcwatch.StoredBreach) DossierBreach {
		v := DossierBreach{ID: b.ID, Kind: string(b.Kind), Label: b.Kind.Vietnamese(), Step: b.StepSeq,
			Severity: string(b.Severity), SeverityLabel: b.Severity.Vietnamese(),
			Department: s.department(b.Agency, b.Department), Official: s.person(b.Official),
			StartedAt: b.StartedAt.In(sla.Location()), DueAt: local(b.DueAt), Detail: mask.Text(b.Detail),
			DetectedAt: b.DetectedAt.In(sla.Location()), ResolvedAt: local(b.ResolvedAt),
			ResolvedReason: string(b.ResolvedReason), Acks: acks[b.ID]}
		if v.Acks == nil {
			v.Acks = []AckView{}
		}
		if sil, ok := dvcwatch.SilencedBy(silences, b, now); ok && b.ResolvedAt.IsZero() {
			sv := silenceView(sil, now)
			sv.StartsAt, sv.EndsAt, sv.CreatedAt = sv.StartsAt.In(sla.Location()), sv.EndsAt.In(sla.Location()), sv.CreatedAt.In(sla.Location())
			v.Silence = &sv
		}
		return v
	})
	p.Emails = views(f.Emails, func(e store.DossierEmail) DossierEmail {
		n := notificationView(e.Notification, false)
		return DossierEmail{ID: n.ID, Kind: n.Kind, Recipient: s.person(e.Recipient), Subject: mask.Text(n.Subject),
			State: n.State, CreatedAt: n.CreatedAt.In(sla.Location()), SentAt: local(e.SentAt), FailedAt: local(e.FailedAt),
			Breaches: e.Breaches}
	})
	return p
}

func (s *Server) stepView(agency string, st breach.StepReading, mask email.Masker) StepView {
	v := StepView{Seq: st.Seq, Official: s.person(st.Official), Department: s.department(agency, st.Department),
		StartedAt: local(st.Started), DueAt: local(st.Due), EndedAt: local(st.End), InProgress: st.InProgress}
	v.Official.Name = mask.Text(v.Official.Name)
	v.Official.ID = mask.Text(v.Official.ID)
	v.Updates = views(st.Updates, func(u dvcwatch.Step) StepUpdate {
		return StepUpdate{Seq: u.Seq, Official: mask.Text(u.Official), Title: mask.Text(u.OfficialTitle),
			Department: mask.Text(u.Department), Content: mask.Text(u.Content), State: mask.Text(u.State),
			StartedAt: local(u.StartedAt), At: local(u.FinishedAt), DueAt: local(u.DueAt)}
	})
	return v
}

// dueView is the API's form of an explanation; h are the office hours the
// legal due was counted in.
func dueView(x breach.Explanation, h sla.OfficeHours) *DueView {
	v := &DueView{Basis: string(x.Basis), DueAt: local(x.Due), Round: x.Round, ComparedBy: "date",
		SupplementPauses: x.SupplementPauses, CountFrom: local(x.CountFrom), CountRound: x.CountRound, Open: x.Open,
		EndAt: local(x.End), WaitingSince: local(x.WaitingSince), Stopped: x.Stopped}
	if x.ByMinute {
		v.ComparedBy = "minute"
	}
	if x.LimitKnown {
		v.Limit = x.Limit.String()
	}
	v.Moves = views(x.Moves, func(m breach.Move) MoveView {
		return MoveView{Kind: string(m.Kind), Round: m.Round, Start: local(m.Start), End: local(m.End),
			Before: local(m.Before), Due: local(m.Due), PausedMinutes: minutes(m.Paused), AddedDays: m.AddedDays}
	})
	if c := x.Legal; c != nil {
		v.Legal = &ComputationView{
			Received: c.Received, Counting: string(c.Counting), Limit: c.Limit.String(),
			ReceiptDay: dateOnly(c.ReceiptDay), ReceiptMoved: string(c.ReceiptMoved), Start: local(c.Start),
			OfficeTimeMinutes: minutes(c.OfficeTime), FirstDay: dateOnly(c.FirstDay), LastDay: dateOnly(c.LastDay),
			Days: c.Days, PausedMinutes: minutes(c.Paused), AddedDays: c.AddedDays, Due: c.Due,
			Cutoff: fmt.Sprintf("%02d:%02d", int(h.Cutoff/time.Hour), int(h.Cutoff%time.Hour/time.Minute)),
			Skipped: views(c.Skipped, func(d sla.SkippedDay) SkippedView {
				return SkippedView{Date: dateOnly(d.Date), Skip: string(d.Skip), Kind: string(d.Kind), Name: d.Name, Source: d.Source}
			}),
			Pauses: views(c.Pauses, func(p sla.Pause) PauseView {
				return PauseView{Start: p.Start, End: p.End, CountedMinutes: minutes(p.Counted)}
			}),
			OfficeHours: views(h.Sessions, sla.Session.String),
		}
	}
	return v
}

func statusView(st dvcwatch.Status, raw string) StatusView {
	return StatusView{Code: int(st), Name: st.String(), Label: st.Vietnamese(), Raw: raw}
}

// names are the configured names, or codes when the server has none.
func (s *Server) names() Names {
	if s.opts.Names == nil {
		return codesOnly{}
	}
	return s.opts.Names
}

func (s *Server) agency(code string) Named { return Named{code, s.names().AgencyName(code)} }

func (s *Server) department(agency, code string) Named {
	return Named{code, s.names().DepartmentName(agency, code)}
}

func (s *Server) person(id string) Person { return Person{id, s.names().OfficialName(id)} }

// codesOnly names everything by its code.
type codesOnly struct{}

func (codesOnly) AgencyName(code string) string                   { return code }
func (codesOnly) DepartmentName(_, code string) string            { return code }
func (codesOnly) OfficialName(id string) string                   { return id }
func (codesOnly) Name(dvcwatch.TallyLevel, string, string) string { return "" }

// local returns t in Asia/Ho_Chi_Minh, nil when zero.
func local(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.In(sla.Location())
	return &t
}

// dateOnly writes a day as YYYY-MM-DD, "" when zero.
func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(sla.Location()).Format(time.DateOnly)
}

func minutes(d time.Duration) int { return int(d / time.Minute) }
