package breach

import (
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// next returns, for an evaluation that has run, the soonest instant at
// which time alone, the dossier unchanged, could make the evaluation report other breaches than it does at now
// (another kind, severity, start or due; the detail text is not counted),
// so that a detector may leave the dossier alone until then; zero means never. It is
// exact or early, never late: evaluated at any instant from now until
// before it, the dossier has the breaches it has at now. An instant equal to now means
// "right after now".
//
// The thresholds time crosses are those of the rules: an online submission
// waiting past ReceiveWithin (not_received); an open dossier on time
// becoming due soon, then late against its due (overdue, no_apology); late,
// becoming critical after EscalateAfter, and late against its apology's new
// date (new_date_missed); a step in progress becoming late against its step
// due, then critical; and the legal bound of due_beyond_limit, which grows
// while a payment wait is open. Finished dossiers and clocks that stand
// still have none.
func (e *evaluation) next() (time.Time, error) {
	var n soonest
	n.now = e.now
	d := e.d
	if d.Status == dvcwatch.StatusSubmitted {
		return e.nextReceived()
	}
	if !judged(d.Status) || d.Status == dvcwatch.StatusRefused || d.Status == dvcwatch.StatusStopped {
		return time.Time{}, nil
	}
	if err := e.nextBeyondLimit(&n); err != nil {
		return time.Time{}, err
	}
	if !e.open {
		return n.at, nil
	}
	if !e.due.IsZero() && !e.still(e.due) {
		if err := e.nextLate(&n, e.due); err != nil {
			return time.Time{}, err
		}
		switch {
		case e.late(e.now, e.due):
			if len(e.apologies) > 0 && !e.apologies[0].NewDueAt.IsZero() {
				n.add(e.lateAt(e.apologies[0].NewDueAt))
			}
		case e.reported(dvcwatch.BreachDueSoon):
			if e.anchor.IsZero() {
				// Its start is the evaluation's now (crossed has no
				// earlier bound): every pass moves it, as a full sweep would.
				n.add(e.now)
			}
		case !e.soonDue.IsZero():
			soon, err := e.Schedule.Before(e.soonDue, e.soonThreshold)
			if err != nil {
				return time.Time{}, err
			}
			n.add(soon)
		}
	}
	for _, s := range e.steps {
		if !s.inProgress || s.due.IsZero() || e.still(s.due) {
			continue
		}
		if err := e.nextLate(&n, s.due); err != nil {
			return time.Time{}, err
		}
	}
	return n.at, nil
}

// still reports whether an open dossier's clock stands still for something
// due at due: lateness and due_soon then do not move with time (see
// lateness and stepRules).
func (e *evaluation) still(due time.Time) bool {
	return e.stopped || (!e.waiting.IsZero() && !e.late(e.waiting, due))
}

// nextLate adds when something due at due becomes late, or, late already,
// when its lateness exceeds EscalateAfter (critical).
func (e *evaluation) nextLate(n *soonest, due time.Time) error {
	if !e.late(e.now, due) {
		n.add(e.lateAt(due))
		return nil
	}
	if e.ByMinute {
		// Critical once the office time since due exceeds EscalateAfter:
		// a nanosecond more, so that an amount reached at a session's end
		// gives the next session's start, when it is exceeded.
		at, err := e.Schedule.After(due, e.EscalateAfter+time.Nanosecond)
		if err != nil {
			return err
		}
		n.add(at)
		return nil
	}
	// Late by n working days counts n × the day's length: critical from the
	// first midnight at which n·day > EscalateAfter.
	want := int(e.EscalateAfter/e.day) + 1
	day := sla.DateOf(due)
	for counted := 0; counted < want; {
		day = sla.DateOf(day.Add(36 * time.Hour)) // the next date, whatever the hour
		working, err := e.Schedule.Calendar().IsWorkingDay(day)
		if err != nil {
			return err
		}
		if working {
			counted++
		}
	}
	n.add(day)
	return nil
}

// lateAt returns the first instant, or the instant right after which,
// something due at due is late as late judges it.
func (e *evaluation) lateAt(due time.Time) time.Time {
	if e.ByMinute {
		return due.Add(minuteTolerance)
	}
	return sla.DateOf(due).Add(day)
}

// nextReceived returns when an online submission still waiting passes its
// reception bound (not_received); zero once it has.
func (e *evaluation) nextReceived() (time.Time, error) {
	if e.d.SubmittedAt.IsZero() || e.reported(dvcwatch.BreachNotReceived) {
		return time.Time{}, nil
	}
	bound, err := e.receptionBound()
	if err != nil {
		return time.Time{}, err
	}
	var n soonest
	n.now = e.now
	n.add(bound.Add(minuteTolerance))
	return n.at, nil
}

// nextBeyondLimit adds when due_beyond_limit could end: the legal bound it is
// judged by counts an open payment wait up to now (beyondLimit), so it grows
// with time, by whole working days under CountDates (Postpone rounds each
// wait up) and continuously under CountOfficeHours. Only a breach reported
// can change so: a bound that grows never makes a due beyond it.
func (e *evaluation) nextBeyondLimit(n *soonest) error {
	if !e.end.IsZero() || !e.reported(dvcwatch.BreachDueBeyondLimit) {
		return nil
	}
	dayLength := e.Schedule.Hours().DayLength()
	for _, w := range e.d.PaymentWaits {
		if w.Start.IsZero() || !w.End.IsZero() {
			continue
		}
		paused, err := e.Schedule.WorkingTimeBetween(w.Start, e.now)
		if err != nil {
			return err
		}
		need := time.Duration(0) // office hours: the bound moves with every minute of office time
		if e.Schedule.Counting() == sla.CountDates {
			if paused < 0 {
				paused = 0
			}
			need = (paused+dayLength-1)/dayLength*dayLength - paused // to the next whole day, rounded up
		}
		at, err := e.Schedule.After(e.now, need)
		if err != nil {
			return err
		}
		n.add(at)
	}
	return nil
}

// reported reports whether the evaluation found a breach of kind.
func (e *evaluation) reported(kind dvcwatch.BreachKind) bool {
	for _, b := range e.out {
		if b.Kind == kind {
			return true
		}
	}
	return false
}

// soonest keeps the soonest instant added at or after now.
type soonest struct {
	now, at time.Time
}

func (n *soonest) add(t time.Time) {
	if t.IsZero() || t.Before(n.now) {
		return // passed: what it changes is in the evaluation at now
	}
	if n.at.IsZero() || t.Before(n.at) {
		n.at = t
	}
}
