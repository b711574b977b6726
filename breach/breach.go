// Package breach applies the deadline rules of administrative dossiers: given a
// dossier and the current time it reports which deadlines are near, missed or
// bent, and who answers for them. It is pure: the time is passed in and nothing is
// read or written.
//
// The rules, as interpreted here:
//
//   - The legal due is sla.Schedule.Deadline from the receipt time, with the
//     procedure's limit, the clock paused during every supplement round
//     (RequestedAt→ReturnedAt). It is computed independently of the portal's DueAt,
//     which is only the promise on the receipt. When the procedure's limit is
//     unknown the portal's DueAt stands in for the legal due (the portal is trusted
//     to have added closed pauses) and each breach's Detail says so.
//   - The first apology letter moves the effective due to its NewDueAt, but only if
//     it was issued at least one working day (the office day's length of working
//     time) before the legal due; later letters never move it.
//   - An open dossier's clock is read at the start of its open supplement round
//     (one with no ReturnedAt) if it has one, else at now. This is the same as
//     closing the open round at now and moving the due by it, but keeps the due,
//     and so StartedAt, stable while the pause lasts. A paused dossier (status 5
//     or 6) without an open round (e.g. awaiting payment, whose start the dossier
//     does not record) is neither due_soon nor overdue, nor are its unfinished
//     steps step_overdue.
//   - Finished dossiers (status 9 or 10): an open round ends at the processing
//     time; finished_late and returned_late are each reported when their own
//     instant (ProcessedAt, ReturnedAt) is after the effective due, so a dossier
//     both processed and returned late has both.
//   - no_apology accompanies overdue, finished_late or returned_late when the
//     dossier has no apology letter; late_apology is judged against the legal due
//     (the due the letter replaced), an apology issued after it included.
//   - due_beyond_limit needs a known limit; the portal's DueAt is compared with the
//     legal due counting every pause (an open round closed at now), or the first
//     apology's NewDueAt if later, with a tolerance of one minute.
//   - Refused, withdrawn and stopped dossiers, and dossiers not yet received, have
//     no breaches at all.
package breach

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Defaults of the Rules thresholds, used when a field is zero or negative.
const (
	DefaultDueSoonHours = 8.0 // working hours left
	DefaultDueSoonShare = 0.8 // share of the allowed working time used
	defaultEscalateDays = 2   // working days overdue before an overdue turns critical
)

// beyondTolerance is how much later than the legal due the portal's DueAt may be
// before it counts as due_beyond_limit (portals round to the minute).
const beyondTolerance = time.Minute

// Rules evaluates dossiers against the deadline rules of one schedule.
type Rules struct {
	// Schedule is the agency's working time; required.
	Schedule *sla.Schedule
	// Limit returns a procedure's legal time limit by its code (MaTTHC); nil or
	// false means unknown, and the portal's DueAt stands in for the legal due.
	Limit func(procedureCode string) (sla.Limit, bool)
	// DueSoonHours: an open dossier with at most this much working time left is
	// due_soon. Zero means DefaultDueSoonHours.
	DueSoonHours float64
	// DueSoonShare: an open dossier that has used at least this share of its
	// allowed working time is due_soon. Zero means DefaultDueSoonShare.
	DueSoonShare float64
	// EscalateAfter: overdue (and an unfinished step overdue) by more than this
	// much working time is critical. Zero means two working days (twice the
	// office day's length).
	EscalateAfter time.Duration
}

// Evaluate returns the breaches of d as of now, dossier-level ones first, then
// those of its steps. An error means a rule could not be computed (no schedule, an
// unknown status, a time outside the calendar, a supplement round that ends
// before it starts); no breaches are returned with it.
func (r Rules) Evaluate(d dvcwatch.Dossier, now time.Time) ([]dvcwatch.Breach, error) {
	if r.Schedule == nil {
		return nil, errors.New("breach: no schedule")
	}
	if !d.Status.Valid() {
		return nil, fmt.Errorf("breach: %s: unknown status %d", d.Key, int(d.Status))
	}
	switch d.Status {
	case dvcwatch.StatusSubmitted, dvcwatch.StatusRefused, dvcwatch.StatusWithdrawn, dvcwatch.StatusStopped:
		return nil, nil
	}
	e := &evaluation{Rules: r, d: &d, now: now, day: r.Schedule.Hours().DayLength()}
	e.defaults()
	if err := e.run(); err != nil {
		return nil, fmt.Errorf("breach: %s: %w", d.Key, err)
	}
	return e.out, nil
}

type evaluation struct {
	Rules
	d   *dvcwatch.Dossier
	now time.Time
	day time.Duration

	supplements []dvcwatch.Supplement // by RequestedAt, unknown times last
	apologies   []dvcwatch.Apology    // by IssuedAt, unknown times last
	official    string                // of the current step
	department  string

	finished bool      // status 9 or 10
	finish   time.Time // ProcessedAt, else ReturnedAt, else now; for finished dossiers
	asOf     time.Time // when the clock of an open dossier is read; zero if unknown
	closed   []sla.Interval
	openFrom []time.Time // starts of open supplement rounds of an open dossier

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
}

func (e *evaluation) run() error {
	d := e.d
	e.supplements = append([]dvcwatch.Supplement(nil), d.Supplements...)
	sort.SliceStable(e.supplements, func(i, j int) bool {
		return earlier(e.supplements[i].RequestedAt, e.supplements[j].RequestedAt)
	})
	e.apologies = append([]dvcwatch.Apology(nil), d.Apologies...)
	sort.SliceStable(e.apologies, func(i, j int) bool {
		return earlier(e.apologies[i].IssuedAt, e.apologies[j].IssuedAt)
	})
	e.currentStep()

	e.finished = d.Status == dvcwatch.StatusProcessed || d.Status == dvcwatch.StatusReturned
	if e.finished {
		e.finish = firstSet(d.ProcessedAt, d.ReturnedAt, e.now)
	}
	if err := e.pauses(); err != nil {
		return err
	}
	if !e.finished {
		switch {
		case len(e.openFrom) > 0:
			e.asOf = e.openFrom[0]
			if e.asOf.After(e.now) {
				e.asOf = e.now
			}
		case d.Status.Clock() == dvcwatch.ClockRunning:
			e.asOf = e.now
		}
	}

	if len(d.Supplements) > 1 {
		e.add(dvcwatch.BreachSupplementedTwice, dvcwatch.SeverityWarning, e.supplements[1].RequestedAt, time.Time{},
			fmt.Sprintf("Yêu cầu bổ sung %d lần / %d supplement requests (Decision 766/QĐ-TTg counts the dossier late)",
				len(d.Supplements), len(d.Supplements)))
	}
	if len(d.Apologies) > 1 {
		e.add(dvcwatch.BreachRescheduledTwice, dvcwatch.SeverityWarning, e.apologies[1].IssuedAt, e.apologies[1].NewDueAt,
			fmt.Sprintf("Hẹn lại %d lần / rescheduled %d times; the new date may be set only once",
				len(d.Apologies), len(d.Apologies)))
	}
	if !d.ReceivedAt.IsZero() {
		if err := e.deadlines(); err != nil {
			return err
		}
	}
	return e.steps()
}

// currentStep picks the official and department who answer for dossier-level
// breaches: those of the unfinished step with the highest Seq, else of the step
// with the highest Seq.
func (e *evaluation) currentStep() {
	var cur *dvcwatch.Step
	curOpen := false
	for i := range e.d.Steps {
		s := &e.d.Steps[i]
		open := s.FinishedAt.IsZero()
		if cur == nil || (open && !curOpen) || (open == curOpen && s.Seq >= cur.Seq) {
			cur, curOpen = s, open
		}
	}
	if cur != nil {
		e.official, e.department = cur.Official, cur.Department
	}
}

// pauses sorts the supplement rounds into closed pauses and, for an open dossier,
// the starts of rounds still open; a finished dossier's open round ends when it
// finished.
func (e *evaluation) pauses() error {
	for i, s := range e.supplements {
		if s.RequestedAt.IsZero() {
			continue
		}
		end := s.ReturnedAt
		switch {
		case !end.IsZero():
			if end.Before(s.RequestedAt) {
				return fmt.Errorf("supplement round %d returned at %s, before it was requested at %s",
					i+1, end.Format(time.RFC3339), s.RequestedAt.Format(time.RFC3339))
			}
		case e.finished:
			end = e.finish
			if end.Before(s.RequestedAt) {
				continue
			}
		default:
			e.openFrom = append(e.openFrom, s.RequestedAt)
			continue
		}
		e.closed = append(e.closed, sla.Interval{Start: s.RequestedAt, End: end})
	}
	e.closed = sla.MergeIntervals(e.closed)
	return nil
}

func (e *evaluation) deadlines() error {
	d := e.d
	var limit sla.Limit
	known := false
	if e.Limit != nil {
		limit, known = e.Limit(d.ProcedureCode)
	}
	var legal time.Time
	note := ""
	switch {
	case known:
		var err error
		if legal, err = e.Schedule.Deadline(d.ReceivedAt, limit, e.closed); err != nil {
			return err
		}
	case !d.DueAt.IsZero():
		legal = d.DueAt.In(sla.Location())
		note = fmt.Sprintf(" — hạn theo cổng, chưa rõ thời hạn luật định của TTHC %s / portal due used, no legal limit known for procedure %s",
			d.ProcedureCode, d.ProcedureCode)
	default:
		return nil // neither a limit nor a promise: nothing to measure against
	}

	due := legal
	if len(e.apologies) > 0 && !e.apologies[0].IssuedAt.IsZero() {
		a := e.apologies[0]
		ahead, err := e.Schedule.WorkingTimeBetween(a.IssuedAt, legal)
		if err != nil {
			return err
		}
		if ahead < e.day {
			e.add(dvcwatch.BreachLateApology, dvcwatch.SeverityWarning, a.IssuedAt, legal,
				fmt.Sprintf("Thư xin lỗi phát hành trước hạn %s giờ làm việc, cần ít nhất 1 ngày / apology issued %s working hours before the due, at least one working day required%s",
					hours(ahead), hours(ahead), note))
		} else if !a.NewDueAt.IsZero() {
			due = a.NewDueAt.In(sla.Location())
		}
	}

	if e.finished {
		late := false
		if !d.ProcessedAt.IsZero() && d.ProcessedAt.After(due) {
			late = true
			if err := e.lateFinish(dvcwatch.BreachFinishedLate, d.ProcessedAt, due, "xử lý xong trễ / processed late", note); err != nil {
				return err
			}
		}
		if !d.ReturnedAt.IsZero() && d.ReturnedAt.After(due) {
			late = true
			if err := e.lateFinish(dvcwatch.BreachReturnedLate, d.ReturnedAt, due, "trả kết quả trễ / result returned late", note); err != nil {
				return err
			}
		}
		if late {
			e.noApology(due, note)
		}
	} else if !e.asOf.IsZero() {
		if err := e.open(due, note); err != nil {
			return err
		}
	}

	if known && !d.DueAt.IsZero() {
		return e.beyondLimit(limit, legal, note)
	}
	return nil
}

func (e *evaluation) lateFinish(kind dvcwatch.BreachKind, at, due time.Time, what, note string) error {
	late, err := e.Schedule.WorkingTimeBetween(due, at)
	if err != nil {
		return err
	}
	e.add(kind, dvcwatch.SeverityWarning, due, due,
		fmt.Sprintf("%s %s giờ làm việc / by %s working hours%s", what, hours(late), hours(late), note))
	return nil
}

func (e *evaluation) noApology(due time.Time, note string) {
	if len(e.apologies) == 0 {
		e.add(dvcwatch.BreachNoApology, dvcwatch.SeverityWarning, due, due,
			"Trễ hạn không có thư xin lỗi, hẹn lại / late with no apology letter and new appointment"+note)
	}
}

// open applies overdue and due_soon to an open dossier whose clock reads e.asOf.
func (e *evaluation) open(due time.Time, note string) error {
	if e.asOf.After(due) {
		late, err := e.Schedule.WorkingTimeBetween(due, e.asOf)
		if err != nil {
			return err
		}
		sev := dvcwatch.SeverityWarning
		if late > e.EscalateAfter {
			sev = dvcwatch.SeverityCritical
		}
		e.add(dvcwatch.BreachOverdue, sev, due, due,
			fmt.Sprintf("Quá hạn %s giờ làm việc / overdue by %s working hours%s", hours(late), hours(late), note))
		e.noApology(due, note)
		return nil
	}
	start, err := e.Schedule.EffectiveStart(e.d.ReceivedAt)
	if err != nil {
		return err
	}
	left, err := e.left(e.asOf, due)
	if err != nil {
		return err
	}
	allowed, err := e.left(start, due)
	if err != nil {
		return err
	}
	// Thresholds are rounded to the second so that float shares such as 0.8 do
	// not miss an exact boundary by a nanosecond.
	threshold := time.Duration(e.DueSoonHours * float64(time.Hour)).Round(time.Second)
	if allowed > 0 {
		threshold = max(threshold, (allowed - time.Duration(e.DueSoonShare*float64(allowed))).Round(time.Second))
	}
	if left > threshold {
		return nil
	}
	// From the receipt rather than the effective start: a dossier whose limit is
	// shorter than the threshold is due soon from the moment it is received.
	since, err := e.crossed(e.d.ReceivedAt, e.asOf, due, threshold)
	if err != nil {
		return err
	}
	e.add(dvcwatch.BreachDueSoon, dvcwatch.SeverityInfo, since, due,
		fmt.Sprintf("Còn %s giờ làm việc / %s working hours left%s", hours(left), hours(left), note))
	return nil
}

// left returns the working time from t to due that the clock still has to run:
// office time not covered by a closed pause.
func (e *evaluation) left(t, due time.Time) (time.Duration, error) {
	total, err := e.Schedule.WorkingTimeBetween(t, due)
	if err != nil || total <= 0 {
		return total, err
	}
	for _, p := range e.closed {
		lo, hi := p.Start, p.End
		if lo.Before(t) {
			lo = t
		}
		if hi.After(due) {
			hi = due
		}
		if hi.After(lo) {
			w, err := e.Schedule.WorkingTimeBetween(lo, hi)
			if err != nil {
				return 0, err
			}
			total -= w
		}
	}
	return total, nil
}

// crossed returns the earliest instant in [from, to], to the second, at which the
// working time left before due had fallen to threshold; left(to) ≤ threshold.
func (e *evaluation) crossed(from, to, due time.Time, threshold time.Duration) (time.Time, error) {
	l, err := e.left(from, due)
	if err != nil || l <= threshold {
		return from, err
	}
	lo, hi := from, to // left(lo) > threshold ≥ left(hi); left never rises with time
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if !mid.After(lo) {
			break
		}
		l, err := e.left(mid, due)
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

// beyondLimit checks the receipt's promise against the legal due counting every
// pause, an open one closed at now.
func (e *evaluation) beyondLimit(limit sla.Limit, legal time.Time, note string) error {
	d := e.d
	bound := legal
	if len(e.openFrom) > 0 {
		all := append([]sla.Interval(nil), e.closed...)
		for _, s := range e.openFrom {
			all = append(all, sla.Interval{Start: s, End: later(s, e.now)})
		}
		var err error
		if bound, err = e.Schedule.Deadline(d.ReceivedAt, limit, all); err != nil {
			return err
		}
	}
	if len(e.apologies) > 0 && e.apologies[0].NewDueAt.After(bound) {
		bound = e.apologies[0].NewDueAt.In(sla.Location())
	}
	if d.DueAt.Sub(bound) > beyondTolerance {
		e.add(dvcwatch.BreachDueBeyondLimit, dvcwatch.SeverityWarning, d.ReceivedAt, bound,
			fmt.Sprintf("Ngày hẹn trả %s sau hạn luật định %s (%s) / receipt due after the legal limit%s",
				d.DueAt.In(sla.Location()).Format(time.DateTime), bound.Format(time.DateTime), limit, note))
	}
	return nil
}

// steps applies step_overdue to each step with its own due.
func (e *evaluation) steps() error {
	for i, s := range e.d.Steps {
		if s.DueAt.IsZero() {
			continue
		}
		seq := s.Seq
		if seq <= 0 {
			seq = i + 1 // 0 would mean the whole dossier
		}
		due := s.DueAt.In(sla.Location())
		sev := dvcwatch.SeverityWarning
		var late time.Duration
		var err error
		switch {
		case !s.FinishedAt.IsZero():
			if !s.FinishedAt.After(due) {
				continue
			}
			late, err = e.Schedule.WorkingTimeBetween(due, s.FinishedAt)
		default:
			at := e.asOf
			if e.finished {
				at = e.finish
			}
			if at.IsZero() || !at.After(due) {
				continue
			}
			late, err = e.Schedule.WorkingTimeBetween(due, at)
			if !e.finished && late > e.EscalateAfter {
				sev = dvcwatch.SeverityCritical
			}
		}
		if err != nil {
			return err
		}
		e.out = append(e.out, dvcwatch.Breach{
			Kind: dvcwatch.BreachStepOverdue, Key: e.d.Key, StepSeq: seq,
			Official: s.Official, Department: s.Department,
			Severity: sev, StartedAt: due, DueAt: due,
			Fingerprint: dvcwatch.BreachFingerprint(dvcwatch.BreachStepOverdue, e.d.Key, seq),
			Detail:      fmt.Sprintf("Bước %d quá hạn %s giờ làm việc / step %d overdue by %s working hours", seq, hours(late), seq, hours(late)),
		})
	}
	return nil
}

func (e *evaluation) add(kind dvcwatch.BreachKind, sev dvcwatch.Severity, started, due time.Time, detail string) {
	if !started.IsZero() {
		started = started.In(sla.Location())
	}
	if !due.IsZero() {
		due = due.In(sla.Location())
	}
	e.out = append(e.out, dvcwatch.Breach{
		Kind: kind, Key: e.d.Key, Official: e.official, Department: e.department,
		Severity: sev, StartedAt: started, DueAt: due,
		Fingerprint: dvcwatch.BreachFingerprint(kind, e.d.Key, 0),
		Detail:      detail,
	})
}

// earlier orders times with unknown (zero) times last.
func earlier(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return !a.IsZero() && b.IsZero()
	}
	return a.Before(b)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// hours formats a working time in hours, e.g. "3.5".
func hours(d time.Duration) string {
	return fmt.Sprintf("%.1f", d.Hours())
}
