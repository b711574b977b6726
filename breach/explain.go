package breach

import (
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// DueBasis says which due the rules judge a dossier against.
type DueBasis string

// The dues a dossier can be judged against (see the package comment).
const (
	// BasisNone: no due. The dossier is not judged against one (an online
	// submission not yet received, a withdrawn dossier), or it has no
	// appointment and its procedure's limit is not configured.
	BasisNone DueBasis = "none"
	// BasisAppointment: the appointment written on the receipt (NgayHenTra).
	BasisAppointment DueBasis = "appointment"
	// BasisComputed: the portal gave no appointment, and the legal due
	// computed from the procedure's limit stands in.
	BasisComputed DueBasis = "computed"
	// BasisSupplementAppointment: a supplement round's new appointment
	// (NgayHenTraMoi) replaced the one before.
	BasisSupplementAppointment DueBasis = "supplement_appointment"
	// BasisRestart: the limit counted again from the day the complete
	// documents of a supplement round were received (Decree 118/2025/NĐ-CP
	// art. 19(5)).
	BasisRestart DueBasis = "restart"
)

// MoveKind says what one step of finding the due did.
type MoveKind string

// The steps by which the rules find the due, in the order they apply them.
const (
	MoveAppointment           MoveKind = "appointment"            // the due is the receipt's NgayHenTra
	MoveComputed              MoveKind = "computed"               // the due is the legal due counted from reception (Start)
	MoveSupplementAppointment MoveKind = "supplement_appointment" // round Round gave a new appointment
	MoveSupplementWaiting     MoveKind = "supplement_waiting"     // round Round is still open: the clock stands still since Start
	MoveRestart               MoveKind = "restart"                // the limit counted again from round Round's complete documents (End)
	MoveSupplementPause       MoveKind = "supplement_pause"       // round Round paused the clock from Start to End
	MovePaymentPause          MoveKind = "payment_pause"          // waiting for payment paused the clock from Start to End
	MovePaymentWaiting        MoveKind = "payment_waiting"        // waiting for payment since Start: the clock stands still, the due moves once it ends
	MovePaymentBeforeCount    MoveKind = "payment_before_count"   // a wait for payment before the count began (a restart made it irrelevant)
)

// Move is one step by which the rules found the due.
type Move struct {
	Kind  MoveKind
	Round int // the supplement round's Seq, for the supplement moves
	// Start and End are the interval the move is about: a supplement round
	// (requested, complete documents received), a pause, a wait (End zero
	// while it lasts); for MoveComputed, Start is the reception.
	Start, End time.Time
	Before     time.Time // the due before the move; zero for the first, or when there was none
	Due        time.Time // the due after it
	// For the pauses: the office time the interval covers, and the working
	// days the due moved by (by date). Under sla.CountDates the office time,
	// rounded up to whole office days, is what moves it.
	Paused    time.Duration
	AddedDays int
}

// Explanation is how the rules find the due a dossier is judged against: the
// data behind the dates in its breaches, for the people who must trust them
// (the admin console's dossier page, dvcwatch dossier show), who render it.
// Times are in Asia/Ho_Chi_Minh.
type Explanation struct {
	Basis DueBasis
	// Due is the due judged against; zero when Basis is BasisNone.
	Due time.Time
	// Round is the supplement round whose appointment or restart gave the
	// due; 0 otherwise.
	Round int
	// ByMinute: lateness is compared to the minute; else by date (a dossier
	// finished on its due date is on time).
	ByMinute bool
	// Moves are the steps of finding the due, in order.
	Moves []Move

	// Limit is the procedure's legal time limit, when LimitKnown.
	Limit      sla.Limit
	LimitKnown bool
	// SupplementPauses: the procedure's supplement rounds pause the clock
	// instead of restarting the limit.
	SupplementPauses bool
	// CountFrom is when the current count began: the reception, or, after
	// supplement round CountRound, its complete documents (or its request,
	// when the portal's new appointment came without them).
	CountFrom  time.Time
	CountRound int
	// Legal is the legal due counted from CountFrom by the agency's
	// convention, without pauses, with every non-working day skipped: the
	// due itself when Basis is BasisComputed or BasisRestart (before any
	// payment pause), else the limit the appointment is audited against
	// (due_beyond_limit). Nil when the limit is unknown or there is no
	// count.
	Legal *sla.Computation

	// Open: the dossier is still owed a result; End is the end of processing
	// of a finished one (zero when unknown).
	Open bool
	End  time.Time
	// WaitingSince: the open dossier's clock stands still since then (a
	// supplement round or a payment wait still open). Stopped: it stands
	// still since a time the data does not say (status 5 or 6 without an
	// open round or wait); the rules give it the benefit of the doubt.
	WaitingSince time.Time
	Stopped      bool

	// Steps are the dossier's steps as the rules read its progress updates.
	Steps []StepReading
}

// StepReading is a step as the rules read the progress updates: consecutive
// updates of the same official and step due are one step, a step ends when
// the next begins, and the last step of an open dossier is in progress,
// whoever it names.
type StepReading struct {
	Seq int // the first update's
	// Official is the configured official's id when Rules.People knows the
	// name or id the update gives, else the name as the portal gave it;
	// Department is the update's, else that official's configured one.
	Official   string
	Department string
	Due        time.Time // NgayKetThucTheoQuyDinh; zero when not reported
	Started    time.Time // the first update's start, else its time
	End        time.Time // when the dossier moved on; zero while in progress or unknown
	InProgress bool
	Updates    []dvcwatch.Step // the progress updates merged into the step, by Seq
}

// Explain returns how the rules find the due d is judged against, and the
// steps as they read them: the same code as Evaluate's, recording its way.
// Finding the due does not depend on the time, so Explain takes none. The
// error is Evaluate's: no schedule, an unknown status, a time outside the
// calendar, a supplement round returned before it was requested.
func (r Rules) Explain(d dvcwatch.Dossier) (Explanation, error) {
	e, err := r.evaluation(&d, time.Time{})
	if err != nil {
		return Explanation{}, err
	}
	x, err := e.explain()
	if err != nil {
		return Explanation{}, fmt.Errorf("breach: explain %s: %w", d.Key, err)
	}
	return x, nil
}

func (e *evaluation) explain() (Explanation, error) {
	if err := e.prepare(); err != nil {
		return Explanation{}, err
	}
	x := Explanation{
		Basis: BasisNone, ByMinute: e.ByMinute, Limit: e.limit, LimitKnown: e.known, Open: e.open, End: loc(e.end),
		SupplementPauses: e.SupplementPauses != nil && e.SupplementPauses(e.d.ProcedureCode),
	}
	for _, s := range e.steps {
		first := e.entries[s.from]
		x.Steps = append(x.Steps, StepReading{
			Seq: s.seq, Official: s.official, Department: s.department, Due: loc(s.due),
			Started: loc(firstSet(first.StartedAt, first.FinishedAt)), End: loc(s.end), InProgress: s.inProgress,
			Updates: e.entries[s.from:s.to],
		})
	}
	if !judged(e.d.Status) {
		return x, nil
	}
	e.moves = &x.Moves
	if err := e.findDue(); err != nil {
		return Explanation{}, err
	}
	for i := range x.Moves {
		m := &x.Moves[i]
		m.Start, m.End, m.Before, m.Due = loc(m.Start), loc(m.End), loc(m.Before), loc(m.Due)
		switch m.Kind {
		case MoveAppointment:
			x.Basis = BasisAppointment
		case MoveComputed:
			x.Basis = BasisComputed
		case MoveSupplementAppointment:
			x.Basis, x.Round = BasisSupplementAppointment, m.Round
		case MoveRestart:
			x.Basis, x.Round = BasisRestart, m.Round
		}
		switch m.Kind {
		case MoveSupplementAppointment, MoveRestart:
			x.CountRound = m.Round
		}
	}
	x.Due, x.CountFrom = loc(e.due), loc(e.anchor)
	if x.Due.IsZero() {
		x.Basis = BasisNone
	}
	x.WaitingSince, x.Stopped = loc(e.waiting), e.stopped
	if e.known && !e.anchor.IsZero() {
		c, err := e.Schedule.Compute(e.anchor, e.limit, nil)
		if err != nil {
			return Explanation{}, err
		}
		x.Legal = &c
	}
	return x, nil
}

// loc returns t in Asia/Ho_Chi_Minh, the zero time as it is.
func loc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(sla.Location())
}
