// Package breach applies the deadline rules of administrative dossiers: given a
// dossier and the current time it reports which deadlines are near, missed or
// bent, and who answers for them. It is pure: the time is passed in and nothing is
// read or written.
//
// The rules are those the national and provincial statistics judge by (the
// "decided rules" of the project's domain brief), with their sources:
//
//   - The due is the appointment the citizen was given: NgayHenTra as set at
//     reception; after a supplement round, that round's new appointment
//     (NgayHenTraMoi) replaces it. A round without one restarts the limit from
//     the day the complete documents were received (Decree 118/2025/NĐ-CP art.
//     19(5): "thời hạn giải quyết được tính lại từ đầu sau khi nhận đủ hồ sơ"),
//     or, for a procedure configured so, pauses the clock for the round. Time
//     spent waiting for payment (status 6) pauses the clock. Without
//     NgayHenTra, the legal due computed from the procedure's limit
//     (sla.Schedule.Compute) stands in, and the breach says so.
//   - Lateness is compared by date by default: a dossier finished on its due
//     date is on time, and so is a step finished on its step due date; an
//     agency may compare by the minute (Rules.ByMinute).
//   - The end of processing is NgayKetThucXuLy (processed, status 9), else
//     the return (status 10); a citizen collecting the result late is not the
//     agency's delay. A refusal or stop (status 3, 8) issued after the due is
//     refused_late (art. 19(3): the refusal is due within the time limit).
//   - An apology with a new appointment is timely when issued on or before
//     the last working day before the due date ("chậm nhất 01 ngày trước ngày
//     hết hạn", art. 19(6)); later, late_apology. Late with no apology,
//     no_apology. The new date does not make a late dossier on time: missing
//     it too is new_date_missed. More than one new appointment,
//     rescheduled_twice (art. 19(6): "không quá một lần").
//   - More than one supplement request counts the dossier late in the national
//     service index (Decision 766/QĐ-TTg): supplemented_twice. A first request
//     later than Rules.SupplementWithin working days after reception (art.
//     19(5): no more than 03 working days) is late_supplement_request.
//   - An online submission left in status 1 longer than Rules.ReceiveWithin
//     working hours (art. 17(2)(c): received or refused no later than 08
//     working hours) is not_received, while it waits.
//   - The receipt's NgayHenTra later, by date, than the legal due the limit
//     allows (counting the restarts and pauses the dossier had) is
//     due_beyond_limit.
//   - Steps are progress updates, one entry per update: consecutive entries of
//     the same official and step due are one step; a step ends when the next
//     one begins (or at its own reported end), and the last entry of an open
//     dossier is the step in progress, whoever it names. Dossier-level
//     breaches are attributed to the step in progress (an open dossier) or to
//     the step that held the dossier when its due passed; a step without a
//     department takes its official's configured department (Rules.People).
//   - While the clock stands still (a supplement round or a payment wait still
//     open) an open dossier is neither overdue nor due soon, unless it was late
//     before the wait began.
//   - Withdrawn dossiers (status 7) have only the reception breach.
package breach

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Version numbers the rules. A detector that last swept with another version
// sweeps again, and resolves what these rules no longer report as
// dvcwatch.ResolvedRuleChanged, without mail.
//
// Version 3 (this one) also records each dossier's verdict for the monthly
// results: a store upgraded to it sweeps once to record every dossier's. 2
// judged against the citizen's appointment by date; 1 against the computed
// legal due by the minute.
const Version = 3

// Defaults of the Rules thresholds, used when a field is zero or negative.
const (
	DefaultDueSoonHours     = 8.0            // working hours left
	DefaultDueSoonShare     = 0.8            // share of the allowed working time used
	DefaultSupplementWithin = 3              // working days after reception, Decree 118/2025/NĐ-CP art. 19(5)
	DefaultReceiveWithin    = 8 * time.Hour  // working hours, art. 17(2)(c)
	defaultEscalateDays     = 2              // working days overdue before an overdue turns critical
	minuteTolerance         = time.Minute    // portals write times to the minute
	day                     = 24 * time.Hour // a calendar day
)

// People resolves the officials that steps name.
type People interface {
	// Official returns the id and department of the configured official of
	// agency whom a step names, by id or by display name (compared in
	// Unicode NFC, ignoring case and spacing); ok is false for someone not
	// configured.
	Official(agency, name string) (id, department string, ok bool)
}

// Rules evaluates dossiers against the deadline rules of one agency.
type Rules struct {
	// Schedule is the agency's working time and counting convention; required.
	Schedule *sla.Schedule
	// Limit returns a procedure's legal time limit by its code (MaTTHC); nil or
	// false means unknown: the portal's appointment is then the only due.
	Limit func(procedureCode string) (sla.Limit, bool)
	// SupplementPauses reports whether a procedure's supplement rounds pause
	// the clock instead of restarting the limit; nil means restart for all.
	SupplementPauses func(procedureCode string) bool
	// ByMinute compares lateness to the minute instead of by date.
	ByMinute bool
	// DueSoonHours: an open dossier with at most this much working time left is
	// due_soon. Zero means DefaultDueSoonHours.
	DueSoonHours float64
	// DueSoonShare: an open dossier that has used at least this share of its
	// allowed working time is due_soon. Zero means DefaultDueSoonShare.
	DueSoonShare float64
	// EscalateAfter: overdue (and a step in progress overdue) by more than this
	// much working time is critical. Zero means two working days.
	EscalateAfter time.Duration
	// SupplementWithin is how many working days after reception a supplement
	// may be requested. Zero means DefaultSupplementWithin.
	SupplementWithin int
	// ReceiveWithin is how much working time an online submission may wait to
	// be received or refused. Zero means DefaultReceiveWithin.
	ReceiveWithin time.Duration
	// People resolves the officials steps name; nil keeps the names as given.
	People People
}

// Evaluate returns the breaches of d as of now, dossier-level ones first, then
// those of its steps. An error means a rule could not be computed (no schedule, an
// unknown status, a time outside the calendar, a supplement round that ends
// before it starts); no breaches are returned with it.
func (r Rules) Evaluate(d dvcwatch.Dossier, now time.Time) ([]dvcwatch.Breach, error) {
	e, err := r.evaluation(&d, now)
	if err != nil {
		return nil, err
	}
	if err := e.run(); err != nil {
		return nil, fmt.Errorf("breach: %s: %w", d.Key, err)
	}
	return e.out, nil
}

// evaluation checks what every rule needs and returns the evaluation of d at
// now, its thresholds defaulted.
func (r Rules) evaluation(d *dvcwatch.Dossier, now time.Time) (*evaluation, error) {
	if r.Schedule == nil {
		return nil, errors.New("breach: no schedule")
	}
	if !d.Status.Valid() {
		return nil, fmt.Errorf("breach: %s: unknown status %d", d.Key, int(d.Status))
	}
	e := &evaluation{Rules: r, d: d, now: now, day: r.Schedule.Hours().DayLength()}
	e.defaults()
	return e, nil
}

// step is one step of a dossier: consecutive progress entries of the same
// official and step due.
type step struct {
	seq        int // the first entry's, for the fingerprint
	from, to   int // the progress entries merged into it: entries[from:to]
	official   string
	department string
	due        time.Time // NgayKetThucTheoQuyDinh; zero when not reported
	end        time.Time // when the dossier moved on from the step; zero while in progress or unknown
	inProgress bool
}

type evaluation struct {
	Rules
	d   *dvcwatch.Dossier
	now time.Time
	day time.Duration

	supplements []dvcwatch.Supplement // by RequestedAt, unknown times last
	apologies   []dvcwatch.Apology    // by IssuedAt, unknown times last
	entries     []dvcwatch.Step       // the progress entries, by Seq
	steps       []step

	open     bool      // still owed a result
	end      time.Time // end of processing of a finished dossier; zero if unknown
	limit    sla.Limit
	known    bool      // the procedure's limit is known
	due      time.Time // the due judged against; zero if there is none
	computed bool      // due is the computed legal due, not an appointment
	anchor   time.Time // when the current count began: reception, or complete documents after a restart
	waiting  time.Time // start of the wait (supplement or payment) an open dossier's clock stands still for
	// stopped says an open dossier's clock stands still since a time its
	// data does not say (status 5 without an open round): it is given the
	// benefit of the doubt.
	stopped bool
	// moves, when not nil, records how findDue found the due (Explain).
	moves *[]Move
	// soonDue and soonThreshold are what dueSoon compared an open dossier
	// on time against: it is due soon once at most soonThreshold of working
	// time is left before soonDue (zero soonDue: dueSoon did not run).
	soonDue       time.Time
	soonThreshold time.Duration

	out []dvcwatch.Breach
}

func (e *evaluation) defaults() {
	if e.DueSoonHours <= 0 {
		e.DueSoonHours = DefaultDueSoonHours
	}
	if e.DueSoonShare <= 0 {
		e.DueSoonShare = DefaultDueSoonShare
	}
	if e.EscalateAfter <= 0 {
		e.EscalateAfter = defaultEscalateDays * e.day
	}
	if e.SupplementWithin <= 0 {
		e.SupplementWithin = DefaultSupplementWithin
	}
	if e.ReceiveWithin <= 0 {
		e.ReceiveWithin = DefaultReceiveWithin
	}
}

func (e *evaluation) run() error {
	if err := e.prepare(); err != nil {
		return err
	}
	d := e.d
	if err := e.notReceived(); err != nil {
		return err
	}
	if !judged(d.Status) {
		return nil
	}
	if err := e.findDue(); err != nil {
		return err
	}
	if d.Status == dvcwatch.StatusRefused || d.Status == dvcwatch.StatusStopped {
		return e.refusedLate()
	}
	for _, rule := range []func() error{e.lateness, e.apologyRules, e.supplementRules, e.beyondLimit} {
		if err := rule(); err != nil {
			return err
		}
	}
	return e.stepRules()
}

// judged reports whether a dossier of status s is judged against a due: an
// online submission not yet received has only the reception rule, and a
// withdrawn dossier is no one's delay.
func judged(s dvcwatch.Status) bool {
	return s != dvcwatch.StatusSubmitted && s != dvcwatch.StatusWithdrawn
}

// prepare orders the supplement rounds and apologies, looks up the limit,
// finds the end of processing and reads the steps: what every rule reads.
func (e *evaluation) prepare() error {
	d := e.d
	e.supplements = slices.Clone(d.Supplements)
	slices.SortStableFunc(e.supplements, func(a, b dvcwatch.Supplement) int { return order(a.RequestedAt, b.RequestedAt) })
	for i, s := range e.supplements {
		if !s.RequestedAt.IsZero() && !s.ReturnedAt.IsZero() && s.ReturnedAt.Before(s.RequestedAt) {
			return fmt.Errorf("supplement round %d returned at %s, before it was requested at %s",
				i+1, s.ReturnedAt.Format(time.RFC3339), s.RequestedAt.Format(time.RFC3339))
		}
	}
	e.apologies = slices.Clone(d.Apologies)
	slices.SortStableFunc(e.apologies, func(a, b dvcwatch.Apology) int { return order(a.IssuedAt, b.IssuedAt) })
	if e.Limit != nil {
		e.limit, e.known = e.Limit(d.ProcedureCode)
	}
	e.open = d.Status.Open()
	switch d.Status {
	case dvcwatch.StatusProcessed, dvcwatch.StatusReturned:
		e.end = firstSet(d.ProcessedAt, d.ReturnedAt)
	case dvcwatch.StatusRefused, dvcwatch.StatusStopped:
		e.end = firstSet(d.RefusedAt, d.ProcessedAt)
	}
	e.readSteps()
	return nil
}

// readSteps merges the progress entries into steps, finds when each ended and
// which is in progress, and resolves their officials.
func (e *evaluation) readSteps() {
	entries := slices.Clone(e.d.Steps)
	slices.SortStableFunc(entries, func(a, b dvcwatch.Step) int { return a.Seq - b.Seq })
	e.entries = entries
	e.steps = make([]step, 0, len(entries))
	for i, en := range entries {
		seq := en.Seq
		if seq <= 0 {
			seq = i + 1 // 0 would mean the whole dossier
		}
		official, department := en.Official, en.Department
		if e.People != nil {
			if id, dep, ok := e.People.Official(e.d.Agency, en.Official); ok {
				official = id
				if department == "" {
					department = dep
				}
			}
		}
		if n := len(e.steps); n > 0 {
			prev := &e.steps[n-1]
			if prev.official == official && prev.due.Equal(en.DueAt) {
				prev.to = i + 1
				continue // the same step, updated again
			}
			// The dossier moved on to this step when it began: its start,
			// or the time of the update that reported it (ThoiDiemXuLy).
			prev.end = firstSet(en.StartedAt, en.FinishedAt)
		}
		e.steps = append(e.steps, step{seq: seq, from: i, to: i + 1, official: official, department: department, due: en.DueAt})
	}
	if n := len(e.steps); n > 0 {
		last := &e.steps[n-1]
		last.inProgress = e.open
		last.end = e.end // zero while open: in progress, whoever it names
	}
}

// owner returns the step that answers for dossier-level breaches: the step in
// progress, else the one that held the dossier when due passed, else the last.
func (e *evaluation) owner(due time.Time) step {
	if len(e.steps) == 0 {
		return step{}
	}
	if !due.IsZero() && !e.open {
		for _, s := range e.steps {
			if !s.end.IsZero() && e.late(s.end, due) {
				return s
			}
		}
	}
	return e.steps[len(e.steps)-1]
}

// notReceived applies Decree 118/2025/NĐ-CP art. 17(2)(c) to an online
// submission still waiting (status 1): it must be received or refused within
// ReceiveWithin of working time. Once received, the delay is history the
// desk can no longer act on; a breach recorded while it lasted is resolved.
func (e *evaluation) notReceived() error {
	d := e.d
	if d.SubmittedAt.IsZero() || d.Status != dvcwatch.StatusSubmitted {
		return nil
	}
	bound, err := e.receptionBound()
	if err != nil {
		return err
	}
	if e.now.Sub(bound) <= minuteTolerance {
		return nil
	}
	late, err := e.Schedule.WorkingTimeBetween(bound, e.now)
	if err != nil {
		return err
	}
	e.add(dvcwatch.BreachNotReceived, dvcwatch.SeverityWarning, bound, bound, e.owner(time.Time{}),
		fmt.Sprintf("Hồ sơ nộp trực tuyến %s chưa được tiếp nhận sau %s giờ làm việc (quá %s giờ) / online submission not received within %s working hours (by %s more)",
			stamp(d.SubmittedAt), hours(e.ReceiveWithin), hours(late), hours(e.ReceiveWithin), hours(late)))
	return nil
}

// receptionBound is when an online submission must have been received or
// refused.
func (e *evaluation) receptionBound() (time.Time, error) {
	limit := sla.Limit{Amount: int(e.ReceiveWithin / time.Hour), Unit: sla.WorkingHours}
	if limit.Amount <= 0 {
		limit.Amount = 1
	}
	return e.Schedule.Deadline(e.d.SubmittedAt, limit, nil)
}

// findDue works out the due the dossier is judged against (see the package
// comment) and whether an open dossier's clock stands still; with e.moves
// set, it records each step of the way (Explain).
func (e *evaluation) findDue() error {
	d := e.d
	e.anchor = d.ReceivedAt
	if !d.DueAt.IsZero() {
		e.due = d.DueAt
		e.move(Move{Kind: MoveAppointment, Due: e.due})
	} else if e.known && !d.ReceivedAt.IsZero() {
		legal, err := e.Schedule.Deadline(d.ReceivedAt, e.limit, nil)
		if err != nil {
			return err
		}
		e.due, e.computed = legal, true
		e.move(Move{Kind: MoveComputed, Start: d.ReceivedAt, Due: e.due})
	}
	pause := e.SupplementPauses != nil && e.SupplementPauses(d.ProcedureCode)
	for i, s := range e.supplements {
		if s.RequestedAt.IsZero() {
			continue
		}
		round := cmp.Or(s.Seq, i+1)
		before := e.due
		switch {
		case !s.DueAfter.IsZero(): // the portal's new appointment wins
			e.due, e.computed = s.DueAfter, false
			e.anchor = firstSet(s.ReturnedAt, s.RequestedAt)
			e.move(Move{Kind: MoveSupplementAppointment, Round: round, Start: s.RequestedAt, End: s.ReturnedAt, Before: before, Due: e.due})
		case s.ReturnedAt.IsZero():
			if e.open {
				e.wait(s.RequestedAt)
				e.move(Move{Kind: MoveSupplementWaiting, Round: round, Start: s.RequestedAt, Before: before, Due: e.due})
			}
		case !pause && e.known:
			restarted, err := e.Schedule.Deadline(s.ReturnedAt, e.limit, nil)
			if err != nil {
				return err
			}
			e.due, e.computed, e.anchor = restarted, true, s.ReturnedAt
			e.move(Move{Kind: MoveRestart, Round: round, Start: s.RequestedAt, End: s.ReturnedAt, Before: before, Due: e.due})
		case !e.due.IsZero():
			if err := e.postpone(MoveSupplementPause, round, sla.Interval{Start: s.RequestedAt, End: s.ReturnedAt}); err != nil {
				return err
			}
		}
	}
	var waits []sla.Interval
	for _, w := range d.PaymentWaits {
		if w.Start.IsZero() {
			continue
		}
		if !e.anchor.IsZero() && w.Start.Before(e.anchor) {
			// Before the count began: a restart made it irrelevant.
			e.move(Move{Kind: MovePaymentBeforeCount, Start: w.Start, End: w.End, Before: e.due, Due: e.due})
			continue
		}
		end := w.End
		switch {
		case !end.IsZero():
		case d.Status == dvcwatch.StatusAwaitingPayment:
			// The clock stands still while it lasts; the due moves once it
			// ends, so that it does not change at every pass meanwhile.
			e.wait(w.Start)
			e.move(Move{Kind: MovePaymentWaiting, Start: w.Start, Before: e.due, Due: e.due})
			continue
		default: // the status moved on without the history saying when
			end = firstSet(e.end, d.SourceUpdatedAt)
		}
		if end.After(w.Start) {
			waits = append(waits, sla.Interval{Start: w.Start, End: end})
		}
	}
	// One wait at a time, in order, as Postpone takes them: each is
	// counted from the due the one before left.
	slices.SortStableFunc(waits, func(a, b sla.Interval) int { return a.Start.Compare(b.Start) })
	for _, w := range waits {
		if e.due.IsZero() {
			break
		}
		if err := e.postpone(MovePaymentPause, 0, w); err != nil {
			return err
		}
	}
	e.stopped = (d.Status == dvcwatch.StatusAwaitingSupplement || d.Status == dvcwatch.StatusAwaitingPayment) &&
		e.waiting.IsZero() // waiting for the citizen since a time the dossier does not say
	return nil
}

// postpone moves the due by the paused interval p, and records the move.
func (e *evaluation) postpone(kind MoveKind, round int, p sla.Interval) error {
	before := e.due
	moved, err := e.Schedule.Postpone(e.due, []sla.Interval{p})
	if err != nil {
		return err
	}
	e.due = moved
	if e.moves == nil {
		return nil
	}
	m := Move{Kind: kind, Round: round, Start: p.Start, End: p.End, Before: before, Due: e.due}
	if m.Paused, err = e.Schedule.WorkingTimeBetween(p.Start, p.End); err != nil {
		return err
	}
	if m.AddedDays, err = e.Schedule.WorkingDaysAfter(before, e.due); err != nil {
		return err
	}
	e.move(m)
	return nil
}

// move records a step of findDue's when explaining.
func (e *evaluation) move(m Move) {
	if e.moves != nil {
		*e.moves = append(*e.moves, m)
	}
}

// wait records that an open dossier's clock stands still since at.
func (e *evaluation) wait(at time.Time) {
	if e.waiting.IsZero() || at.Before(e.waiting) {
		e.waiting = at
	}
}

// late reports whether t is after due: by date, or by the minute.
func (e *evaluation) late(t, due time.Time) bool {
	if e.ByMinute {
		return t.Sub(due) > minuteTolerance
	}
	return !sla.SameOrEarlierDate(t, due)
}

// since returns when lateness against due began: the day after its date, or
// the due itself by the minute.
func (e *evaluation) since(due time.Time) time.Time {
	if e.ByMinute {
		return due.In(sla.Location())
	}
	return sla.DateOf(due).Add(day)
}

// lateBy describes how late t is against due: working days by date, working
// hours by the minute; the duration is the working time, for severity.
func (e *evaluation) lateBy(due, t time.Time) (string, time.Duration, error) {
	if e.ByMinute {
		w, err := e.Schedule.WorkingTimeBetween(due, t)
		return hours(w) + " giờ làm việc / " + hours(w) + " working hours", w, err
	}
	n, err := e.Schedule.WorkingDaysAfter(due, t)
	return fmt.Sprintf("%d ngày làm việc / %d working days", n, n), time.Duration(n) * e.day, err
}

// lateness applies overdue, finished_late, due_soon and no_apology.
func (e *evaluation) lateness() error {
	if e.due.IsZero() {
		return nil
	}
	note := e.note()
	at := e.end
	if e.open {
		at = e.now
		if e.stopped || (!e.waiting.IsZero() && !e.late(e.waiting, e.due)) {
			return nil // the clock stands still, and it was not late when it stopped
		}
	}
	if at.IsZero() {
		return nil
	}
	if !e.late(at, e.due) {
		if e.open {
			return e.dueSoon(note)
		}
		return nil
	}
	by, late, err := e.lateBy(e.due, at)
	if err != nil {
		return err
	}
	kind, sev, what := dvcwatch.BreachFinishedLate, dvcwatch.SeverityWarning, "Giải quyết xong trễ / processing ended late"
	if e.open {
		kind, what = dvcwatch.BreachOverdue, "Quá hạn / overdue"
		if late > e.EscalateAfter {
			sev = dvcwatch.SeverityCritical
		}
	}
	owner := e.owner(e.due)
	e.add(kind, sev, e.since(e.due), e.due, owner, fmt.Sprintf("%s %s (hẹn trả / due %s)%s", what, by, stamp(e.due), note))
	if len(e.apologies) == 0 {
		e.add(dvcwatch.BreachNoApology, dvcwatch.SeverityWarning, e.since(e.due), e.due, owner,
			fmt.Sprintf("Trễ hạn %s, không có văn bản xin lỗi và hẹn lại / late with no apology letter and new appointment%s", stamp(e.due), note))
		return nil
	}
	if a := e.apologies[0]; !a.NewDueAt.IsZero() && e.late(at, a.NewDueAt) {
		by, _, err := e.lateBy(a.NewDueAt, at)
		if err != nil {
			return err
		}
		e.add(dvcwatch.BreachNewDateMissed, dvcwatch.SeverityWarning, e.since(a.NewDueAt), a.NewDueAt, owner,
			fmt.Sprintf("Đã xin lỗi, hẹn lại %s nhưng vẫn trễ %s / apologised with new date %s, missed by %s",
				stamp(a.NewDueAt), by, stamp(a.NewDueAt), by))
	}
	return nil
}

// dueSoon applies due_soon to an open dossier still on time.
func (e *evaluation) dueSoon(note string) error {
	due := e.due
	if !e.ByMinute {
		due = e.Schedule.Closing(due)
	}
	left, err := e.Schedule.WorkingTimeBetween(e.now, due)
	if err != nil {
		return err
	}
	allowed := time.Duration(0)
	if !e.anchor.IsZero() {
		start, err := e.Schedule.CountFrom(e.anchor)
		if err != nil {
			return err
		}
		if allowed, err = e.Schedule.WorkingTimeBetween(start, due); err != nil {
			return err
		}
	}
	// Thresholds are rounded to the second so that float shares such as 0.8 do
	// not miss an exact boundary by a nanosecond.
	threshold := time.Duration(e.DueSoonHours * float64(time.Hour)).Round(time.Second)
	if allowed > 0 {
		threshold = max(threshold, (allowed - time.Duration(e.DueSoonShare*float64(allowed))).Round(time.Second))
	}
	e.soonDue, e.soonThreshold = due, threshold // for next: when it will be due soon
	if left > threshold {
		return nil
	}
	since, err := e.crossed(firstSet(e.anchor, e.now), e.now, due, threshold)
	if err != nil {
		return err
	}
	e.add(dvcwatch.BreachDueSoon, dvcwatch.SeverityInfo, since, e.due, e.owner(time.Time{}),
		fmt.Sprintf("Còn %s giờ làm việc đến hạn %s / %s working hours left%s", hours(left), stamp(e.due), hours(left), note))
	return nil
}

// crossed returns the earliest instant in [from, to], to the second, at which the
// working time left before due had fallen to threshold; left(to) ≤ threshold.
func (e *evaluation) crossed(from, to, due time.Time, threshold time.Duration) (time.Time, error) {
	l, err := e.Schedule.WorkingTimeBetween(from, due)
	if err != nil || l <= threshold || !to.After(from) {
		return from, err
	}
	lo, hi := from, to // left(lo) > threshold ≥ left(hi); left never rises with time
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if !mid.After(lo) {
			break
		}
		l, err := e.Schedule.WorkingTimeBetween(mid, due)
		if err != nil {
			return time.Time{}, err
		}
		if l <= threshold {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// apologyRules applies late_apology and rescheduled_twice (Decree 118/2025/NĐ-CP
// art. 19(6)).
func (e *evaluation) apologyRules() error {
	if len(e.apologies) > 1 {
		a := e.apologies[1]
		e.add(dvcwatch.BreachRescheduledTwice, dvcwatch.SeverityWarning, a.IssuedAt, a.NewDueAt, e.owner(e.due),
			fmt.Sprintf("Hẹn lại %d lần; chỉ được hẹn lại một lần / rescheduled %d times; the new date may be set only once",
				len(e.apologies), len(e.apologies)))
	}
	if len(e.apologies) == 0 || e.due.IsZero() || e.apologies[0].IssuedAt.IsZero() {
		return nil
	}
	a := e.apologies[0]
	lastDay, err := e.Schedule.WorkingDayBefore(e.due)
	if err != nil {
		return err
	}
	if sla.SameOrEarlierDate(a.IssuedAt, lastDay) {
		return nil
	}
	e.add(dvcwatch.BreachLateApology, dvcwatch.SeverityWarning, a.IssuedAt, e.due, e.owner(e.due),
		fmt.Sprintf("Văn bản xin lỗi phát hành %s, chậm nhất phải là %s (01 ngày làm việc trước hạn %s) / apology issued after the last working day before the due%s",
			stamp(a.IssuedAt), sla.DateOf(lastDay).Format("02/01/2006"), stamp(e.due), e.note()))
	return nil
}

// supplementRules applies supplemented_twice (Decision 766/QĐ-TTg) and
// late_supplement_request (Decree 118/2025/NĐ-CP art. 19(5)).
func (e *evaluation) supplementRules() error {
	d := e.d
	if len(d.Supplements) > 1 {
		e.add(dvcwatch.BreachSupplementedTwice, dvcwatch.SeverityWarning, e.supplements[1].RequestedAt, time.Time{}, e.owner(e.due),
			fmt.Sprintf("Yêu cầu bổ sung %d lần / %d supplement requests (Decision 766/QĐ-TTg counts the dossier late)",
				len(d.Supplements), len(d.Supplements)))
	}
	if len(e.supplements) == 0 || e.supplements[0].RequestedAt.IsZero() || d.ReceivedAt.IsZero() {
		return nil
	}
	first := e.supplements[0].RequestedAt
	bound, err := e.Schedule.Deadline(d.ReceivedAt, sla.Limit{Amount: e.SupplementWithin, Unit: sla.WorkingDays}, nil)
	if err != nil {
		return err
	}
	if !e.late(first, bound) {
		return nil
	}
	e.add(dvcwatch.BreachLateSupplementRequest, dvcwatch.SeverityWarning, first, bound, e.ownerAt(first),
		fmt.Sprintf("Yêu cầu bổ sung ngày %s, quá %d ngày làm việc kể từ tiếp nhận (hạn %s) / supplement requested after %d working days from reception",
			stamp(first), e.SupplementWithin, stamp(bound), e.SupplementWithin))
	return nil
}

// ownerAt returns the step that held the dossier at t: the first that had not
// ended by then, else the last.
func (e *evaluation) ownerAt(t time.Time) step {
	for _, s := range e.steps {
		if s.end.IsZero() || !s.end.Before(t) {
			return s
		}
	}
	return e.owner(time.Time{})
}

// beyondLimit checks the receipt's NgayHenTra, by date, against the latest due
// the legal limit allows: counted from reception and from each restart, each
// moved by the waits for payment.
func (e *evaluation) beyondLimit() error {
	d := e.d
	if !e.known || d.DueAt.IsZero() || d.ReceivedAt.IsZero() {
		return nil
	}
	anchors := []time.Time{d.ReceivedAt}
	for _, s := range e.supplements {
		if !s.ReturnedAt.IsZero() {
			anchors = append(anchors, s.ReturnedAt)
		}
	}
	var waits []sla.Interval
	for _, w := range d.PaymentWaits {
		if !w.Start.IsZero() {
			waits = append(waits, sla.Interval{Start: w.Start, End: firstSet(w.End, e.end, e.now)})
		}
	}
	var bound time.Time
	for _, a := range anchors {
		legal, err := e.Schedule.Deadline(a, e.limit, nil)
		if err != nil {
			return err
		}
		if legal, err = e.Schedule.Postpone(legal, waits); err != nil {
			return err
		}
		if legal.After(bound) {
			bound = legal
		}
	}
	if sla.SameOrEarlierDate(d.DueAt, bound) {
		return nil
	}
	e.add(dvcwatch.BreachDueBeyondLimit, dvcwatch.SeverityWarning, d.ReceivedAt, bound, e.owner(time.Time{}),
		fmt.Sprintf("Ngày hẹn trả %s sau hạn luật định %s (%s) / receipt due after the legal limit",
			stamp(d.DueAt), stamp(bound), e.limit))
	return nil
}

// refusedLate applies refused_late: a refusal or stop issued after the due
// (Decree 118/2025/NĐ-CP art. 19(3)).
func (e *evaluation) refusedLate() error {
	if e.due.IsZero() || e.end.IsZero() || !e.late(e.end, e.due) {
		return nil
	}
	by, _, err := e.lateBy(e.due, e.end)
	if err != nil {
		return err
	}
	what := "Từ chối giải quyết"
	if e.d.Status == dvcwatch.StatusStopped {
		what = "Dừng xử lý"
	}
	e.add(dvcwatch.BreachRefusedLate, dvcwatch.SeverityWarning, e.since(e.due), e.due, e.owner(e.due),
		fmt.Sprintf("%s ngày %s, sau hạn %s là %s / refused or stopped %s after the due%s",
			what, stamp(e.end), stamp(e.due), by, by, e.note()))
	return nil
}

// stepRules applies step_overdue to each step with its own due.
func (e *evaluation) stepRules() error {
	for _, s := range e.steps {
		if s.due.IsZero() {
			continue
		}
		at := s.end
		if s.inProgress {
			at = e.now
			if e.stopped || (!e.waiting.IsZero() && !e.late(e.waiting, s.due)) {
				continue // the clock stands still
			}
		}
		if at.IsZero() || !e.late(at, s.due) {
			continue
		}
		by, late, err := e.lateBy(s.due, at)
		if err != nil {
			return err
		}
		sev := dvcwatch.SeverityWarning
		if s.inProgress && late > e.EscalateAfter {
			sev = dvcwatch.SeverityCritical
		}
		state := "xong trễ / finished late by"
		if s.inProgress {
			state = "quá hạn / overdue by"
		}
		e.out = append(e.out, dvcwatch.Breach{
			Kind: dvcwatch.BreachStepOverdue, Key: e.d.Key, StepSeq: s.seq,
			Official: s.official, Department: s.department,
			Severity: sev, StartedAt: e.since(s.due), DueAt: s.due.In(sla.Location()),
			Fingerprint: dvcwatch.BreachFingerprint(dvcwatch.BreachStepOverdue, e.d.Key, s.seq),
			Detail:      fmt.Sprintf("Bước %d %s %s (hạn bước %s)", s.seq, state, by, stamp(s.due)),
		})
	}
	return nil
}

// note says, in a breach's detail, when the due is the computed legal one.
func (e *evaluation) note() string {
	if !e.computed {
		return ""
	}
	return fmt.Sprintf(" — hạn tính theo thời hạn luật định %s (cổng không ghi ngày hẹn trả) / computed legal due: the portal gave no appointment", e.limit)
}

func (e *evaluation) add(kind dvcwatch.BreachKind, sev dvcwatch.Severity, started, due time.Time, owner step, detail string) {
	if !started.IsZero() {
		started = started.In(sla.Location())
	}
	if !due.IsZero() {
		due = due.In(sla.Location())
	}
	e.out = append(e.out, dvcwatch.Breach{
		Kind: kind, Key: e.d.Key, Official: owner.official, Department: owner.department,
		Severity: sev, StartedAt: started, DueAt: due,
		Fingerprint: dvcwatch.BreachFingerprint(kind, e.d.Key, 0),
		Detail:      detail,
	})
}

// order sorts times with unknown (zero) times last.
func order(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// hours formats a working time in hours the Vietnamese way, e.g. "3,5".
func hours(d time.Duration) string {
	s := fmt.Sprintf("%.1f", d.Hours())
	if s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s[:len(s)-2] + "," + s[len(s)-1:]
}

// stamp writes an instant as officials read it: "05/03/2026 17:00".
func stamp(t time.Time) string { return t.In(sla.Location()).Format("02/01/2006 15:04") }
