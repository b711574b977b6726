package breach

import (
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Judge returns what Evaluate does, d's verdict as the monthly results
// count it (see dvcwatch.Verdict): the same due, end of processing,
// comparison (by date or to the minute) and owner as its breaches; and when
// time alone could next change the breaches (see Next). The verdict does not
// depend on now, so one recorded stays true until the dossier or the rules
// change.
func (r Rules) Judge(d dvcwatch.Dossier, now time.Time) ([]dvcwatch.Breach, dvcwatch.Verdict, time.Time, error) {
	e, err := r.evaluation(&d, now)
	if err != nil {
		return nil, dvcwatch.Verdict{}, time.Time{}, err
	}
	if err := e.run(); err != nil {
		return nil, dvcwatch.Verdict{}, time.Time{}, fmt.Errorf("breach: %s: %w", d.Key, err)
	}
	v, err := e.verdict()
	if err != nil {
		return nil, dvcwatch.Verdict{}, time.Time{}, fmt.Errorf("breach: %s: %w", d.Key, err)
	}
	next, err := e.next()
	if err != nil {
		return nil, dvcwatch.Verdict{}, time.Time{}, fmt.Errorf("breach: %s: next check: %w", d.Key, err)
	}
	return e.out, v, next, nil
}

// verdict reads d's verdict off an evaluation that has run.
func (e *evaluation) verdict() (dvcwatch.Verdict, error) {
	d := e.d
	v := dvcwatch.Verdict{
		Key: d.Key, Agency: d.Agency, ProcedureCode: d.ProcedureCode, Status: d.Status, Channel: d.Channel,
		ReceivedAt: d.ReceivedAt, Supplements: len(d.Supplements),
		Digitized: d.HasDigitizedParts, PaidOnline: d.PaidOnline, FeeDue: d.PaidOnline || len(d.PaymentWaits) > 0,
	}
	if d.Status == dvcwatch.StatusSubmitted {
		v.ReceivedAt = time.Time{} // an online submission is not received until status 2
	}
	if !e.open {
		v.EndedAt = firstSet(e.end, d.SourceUpdatedAt)
	}
	if !e.due.IsZero() {
		v.Due = e.due.In(sla.Location())
		v.LateFrom = e.lateFrom(e.due)
	}
	if v.Supplements > 1 && !v.ReceivedAt.IsZero() {
		// Decided rule: more than one supplement request counts the
		// dossier late, whatever its dates.
		v.LateFrom = v.ReceivedAt
	}
	switch {
	case !e.open && judged(d.Status) && !v.ReceivedAt.IsZero():
		v.Outcome = outcome(v)
	case e.open && !e.waiting.IsZero() && (v.LateFrom.IsZero() || e.waiting.Before(v.LateFrom)):
		v.WaitingSince = e.waiting.In(sla.Location())
	case e.open && e.stopped: // waiting since a time its data does not say
		v.WaitingSince = firstSet(d.SourceUpdatedAt, d.ReceivedAt).In(sla.Location())
	}
	v.Department, v.Official = e.lead()
	if (d.Status == dvcwatch.StatusProcessed || d.Status == dvcwatch.StatusReturned) && !v.ReceivedAt.IsZero() && !v.EndedAt.IsZero() {
		var err error
		if v.HandlingDays, err = e.handlingDays(v.EndedAt); err != nil {
			return dvcwatch.Verdict{}, fmt.Errorf("handling time: %w", err)
		}
	}
	for _, s := range e.steps {
		if s.due.IsZero() {
			continue
		}
		v.Steps = append(v.Steps, dvcwatch.StepVerdict{
			Seq: s.seq, Department: s.department, Official: s.official,
			Due: s.due.In(sla.Location()), LateFrom: e.lateFrom(s.due), EndedAt: s.end,
		})
	}
	return v, nil
}

// lead returns the department and official answering for the dossier in the
// results: the department whose finished steps held it longest in all
// (elapsed time), with its official of the longest such step; with no
// finished step, the step in progress. One rule for every outcome: blaming
// a late dossier on the step that made it late (as its breaches do) while
// crediting an on-time one to its last step would leave a department that
// appraises dossiers and hands them on for signature only its late ones.
func (e *evaluation) lead() (department, official string) {
	if len(e.steps) == 0 {
		return "", ""
	}
	type hold struct {
		total, longest time.Duration
		official       string
	}
	held := map[string]*hold{}
	best := ""
	begun := firstSet(e.d.ReceivedAt, e.d.SubmittedAt) // when the first step began, unless it says
	for _, s := range e.steps {
		from := firstSet(e.entries[s.from].StartedAt, begun)
		begun = firstSet(s.end, begun)
		if s.end.IsZero() || from.IsZero() || !s.end.After(from) {
			continue
		}
		d := s.end.Sub(from)
		h := held[s.department]
		if h == nil {
			h = &hold{}
			held[s.department] = h
		}
		h.total += d
		if d > h.longest {
			h.longest, h.official = d, s.official
		}
		if b := held[best]; b == nil || h.total > b.total || (h.total == b.total && s.department < best) {
			best = s.department
		}
	}
	if len(held) == 0 {
		last := e.steps[len(e.steps)-1]
		return last.department, last.official
	}
	return best, held[best].official
}

// outcome splits a finished dossier's end against its due; with no due
// known it is on time (no rule says otherwise).
func outcome(v dvcwatch.Verdict) dvcwatch.Outcome {
	switch {
	case !v.LateFrom.IsZero() && !v.EndedAt.Before(v.LateFrom):
		return dvcwatch.OutcomeLate
	case !v.Due.IsZero() && sla.DateOf(v.EndedAt).Before(sla.DateOf(v.Due)):
		return dvcwatch.OutcomeEarly
	}
	return dvcwatch.OutcomeOnDue
}

// lateFrom is the first instant at which a dossier or step due at due is
// late, as late() judges: the day after due's date, or a second past the
// minute's tolerance (portals write times to the minute).
func (e *evaluation) lateFrom(due time.Time) time.Time {
	if e.ByMinute {
		return due.In(sla.Location()).Add(minuteTolerance + time.Second)
	}
	return sla.DateOf(due).Add(day)
}

// handlingDays is the working time from reception to end less the time the
// clock stood still (supplement rounds and payment waits, merged where they
// overlap), in working days rounded to a hundredth.
func (e *evaluation) handlingDays(end time.Time) (float64, error) {
	d := e.d
	total, err := e.Schedule.WorkingTimeBetween(d.ReceivedAt, end)
	if err != nil {
		return 0, err
	}
	var waits []sla.Interval
	for _, s := range e.supplements {
		if !s.RequestedAt.IsZero() {
			waits = append(waits, sla.Interval{Start: s.RequestedAt, End: firstSet(s.ReturnedAt, end)})
		}
	}
	for _, w := range d.PaymentWaits {
		if !w.Start.IsZero() {
			waits = append(waits, sla.Interval{Start: w.Start, End: firstSet(w.End, end)})
		}
	}
	for _, w := range sla.MergeIntervals(waits) {
		w.Start, w.End = latest(w.Start, d.ReceivedAt), earliest(w.End, end)
		if !w.End.After(w.Start) {
			continue
		}
		paused, err := e.Schedule.WorkingTimeBetween(w.Start, w.End)
		if err != nil {
			return 0, err
		}
		total -= paused
	}
	days := float64(max(total, 0)) / float64(e.day)
	return float64(int64(days*100+0.5)) / 100, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
