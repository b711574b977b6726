package portalsim

import (
	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// evKind is a lifecycle event; each one changes the dossier's record and so its
// update time.
type evKind uint8

const (
	evSubmitted     evKind = iota + 1 // online submission (status 1)
	evReceived                        // 2
	evRefused                         // 3
	evInProgress                      // 4, the first step starts
	evStepDone                        // a step finishes and the next starts
	evSuppRequested                   // 5
	evSuppReturned                    // back to 4; the due date moves
	evPayRequested                    // 6
	evPaid                            // back to 4
	evApology                         // status unchanged; an apology letter is added
	evProcessed                       // 9, the last step finishes
	evReturned                        // 10
	evWithdrawn                       // 7
	evStopped                         // 8
)

// statusAfter returns the status an event leaves the dossier in; 0 keeps the
// previous one.
var statusAfter = [...]dvcwatch.Status{
	evSubmitted:     dvcwatch.StatusSubmitted,
	evReceived:      dvcwatch.StatusReceived,
	evRefused:       dvcwatch.StatusRefused,
	evInProgress:    dvcwatch.StatusInProgress,
	evStepDone:      dvcwatch.StatusInProgress,
	evSuppRequested: dvcwatch.StatusAwaitingSupplement,
	evSuppReturned:  dvcwatch.StatusInProgress,
	evPayRequested:  dvcwatch.StatusAwaitingPayment,
	evPaid:          dvcwatch.StatusInProgress,
	evApology:       0,
	evProcessed:     dvcwatch.StatusProcessed,
	evReturned:      dvcwatch.StatusReturned,
	evWithdrawn:     dvcwatch.StatusWithdrawn,
	evStopped:       dvcwatch.StatusStopped,
}

type event struct {
	at   int64
	kind evKind
}

type lstep struct {
	start, due, finish int64
	official           int16 // index into Directory.Officials
	content            uint8
}

type lsupp struct{ requested, returned, dueBefore, dueAfter int64 }

type lapology struct {
	issued, newDue int64
	issuer         int16
	reason         uint8
}

// outcome is how a dossier's story is planned to end.
type outcome uint8

const (
	outOnTime outcome = iota
	outLate           // processed on a later date than its appointment
	outStuck          // late by weeks or months: open and overdue for a long time
	outRefused
	outWithdrawn
	outStopped // a supplement never comes back
)

// Shares of the plan that are not lateness (of all dossiers, of supplemented
// ones, of late ones…); Options.LateShare sets how many are late.
const (
	refusedShare   = 0.03  // refused at reception
	withdrawnShare = 0.015 // withdrawn by the citizen while being processed
	stoppedShare   = 0.005 // waiting for a supplement that never comes
	stuckOfLate    = 0.25  // of late dossiers, those late by weeks or months

	oneSupplementShare  = 0.08
	twoSupplementsShare = 0.005 // counted late by the national index (Decision 766/QĐ-TTg)
	lateRequestShare    = 0.04  // of supplemented dossiers of long procedures: asked after days, not hours

	slowReceptionShare = 0.03 // of online submissions: left unreceived for a working day or two

	sameDayLateShare = 0.05 // of on-time dossiers: processed on the appointment's date, after its hour

	timelyApologyShare = 0.78 // of late dossiers: apology on or before the last working day before the due date
	lateApologyShare   = 0.12 // of late dossiers: apology on the due date or after; the rest none
)

// quickReception bounds, in office seconds, how long an online submission
// usually waits for the desk.
const quickReception = 3 * 3600

// life is a dossier's whole planned lifecycle. Instants are Unix seconds, zero
// when the event never happens. It is regenerated from (seed, index) whenever it
// is needed and never stored.
type life struct {
	idx       uint64
	proc      int
	channel   dvcwatch.Channel
	kind      dvcwatch.ApplicantKind
	digitized bool
	payOnline bool
	outcome   outcome

	submitted, received, refused int64
	due0                         int64 // NgayHenTra on the receipt
	steps                        [3]lstep
	nSteps                       int
	supps                        [2]lsupp
	nSupp                        int
	payReq, paid                 int64
	apol                         [2]lapology
	nApol                        int
	processed, returned          int64
	cut                          int64 // withdrawn or stopped at
	cutKind                      evKind

	ev  [20]event // sorted by time
	nEv int

	// The national portal's copy: absent, or receiving the events up to ev[dvUpTo]
	// only, each dvLag seconds after it happened.
	dvMissing bool
	dvUpTo    int
	dvLag     int64
}

// dvRates are the seeded shares of dossiers whose national copy differs.
type dvRates struct{ missing, mismatch, lag float64 }

// plan fills l with dossier i's lifecycle. Lateness is planned against the
// appointment the citizen holds, compared by date: NgayHenTra on the receipt,
// replaced after a supplement round by the round's new appointment (the limit
// counts again from the day the documents came back). An on-time dossier is
// processed before its appointment (a few on its date but after its hour); a
// late one on a later working day; the end of processing is what counts, not
// when the citizen collects the result.
func (g *gen) plan(i uint64, dv dvRates, l *life) {
	*l = life{idx: i}
	c := g.clock
	r := newRNG(g.seed, streamLife, i)
	slot := g.arrival(i)
	recv := c.at(slot)

	l.proc = g.pickProcedure(r.intn(g.totalWeight))
	p := &g.dir.Procedures[l.proc]
	switch u := r.float(); {
	case u < p.online:
		l.channel = dvcwatch.ChannelOnline
	case u < p.online+0.03:
		l.channel = dvcwatch.ChannelPostal
	default:
		l.channel = dvcwatch.ChannelInPerson
	}
	l.kind = dvcwatch.ApplicantCitizen
	if r.chance(p.business) {
		l.kind = dvcwatch.ApplicantBusiness
	}
	l.digitized = l.channel == dvcwatch.ChannelOnline || r.chance(0.35)
	l.outcome = outcomeOf(r.float(), g.lateShare[l.proc])
	if l.channel == dvcwatch.ChannelOnline {
		l.submitted = g.submission(&r, slot, recv)
	}
	if l.outcome == outRefused {
		l.refused = recv
		g.finish(l, dv)
		return
	}
	l.received = recv
	l.due0 = c.deadline(recv, p.Limit, nil)
	dayLen := c.dayLen
	limSpan := c.pos(l.due0) - slot // the limit in office seconds

	// Shares of the time allowed by step, how fast the office works, and where
	// a late dossier loses its time.
	var share [3]float64
	if p.Steps == 3 {
		share[0] = r.between(0.5, 0.65)
		share[1] = r.between(0.2, 0.3)
		share[2] = 1 - share[0] - share[1]
	} else {
		share[0] = r.between(0.6, 0.75)
		share[1] = 1 - share[0]
	}
	speed := r.between(0.3, 0.9) // of the time left to the appointment
	var extra float64
	switch l.outcome {
	case outLate:
		extra = r.between(0.05, 5) * float64(dayLen)
	case outStuck:
		extra = r.between(10, 90) * float64(dayLen)
	}
	culprit := 0
	if !r.chance(0.6) {
		culprit = 1 + r.intn(p.Steps-1)
	}
	nSupp := 0
	switch x := r.float(); {
	case x < twoSupplementsShare:
		nSupp = 2
	case x < twoSupplementsShare+oneSupplementShare:
		nSupp = 1
	}
	if l.outcome == outStopped {
		nSupp = max(nSupp, 1)
	}
	lateRequest := limSpan > 5*dayLen && r.chance(lateRequestShare)
	payment := r.chance(p.fee)
	head, others := g.staff[p.Department][0], g.staff[p.Department][1:]
	officials := [3]int16{int16(others[r.intn(len(others))]), int16(head), int16(g.deskOfficial)}
	l.nSteps = p.Steps
	for k := 0; k < p.Steps; k++ {
		l.steps[k].official, l.steps[k].content = officials[k], uint8(k)
	}

	// The first step starts within a couple of office hours. The citizen is
	// asked for documents during it, nearly always within the first working
	// day; when they come back the portal gives a new appointment.
	inProg := slot + max(60, min(int64(r.between(0.01, 0.06)*float64(limSpan)), dayLen/4))
	l.steps[0].start = c.at(inProg)
	base, appt := inProg, l.due0 // where the time allowed starts, and the appointment in force
	for j := 0; j < nSupp; j++ {
		q := base + max(60, int64(r.between(0.2, 0.6)*float64(min(dayLen*6/10, (c.pos(appt)-base)/2))))
		if j == 0 && lateRequest {
			q = slot + int64(r.between(3.2, 4.5)*float64(dayLen))
		}
		s := &l.supps[j]
		l.nSupp = j + 1
		s.requested, s.dueBefore = c.at(q), appt
		if l.outcome == outStopped && j == nSupp-1 {
			// Never returned: the office stops the dossier weeks later.
			l.cut, l.cutKind = c.at(c.pos(s.requested+int64(r.between(15, 30)*daySec))+g.jitter(&r)), evStopped
			l.nSteps = 1
			break
		}
		back := max(c.pos(s.requested+int64(r.between(0.5, 12)*daySec))+g.jitter(&r), q+60)
		s.returned = c.at(back)
		s.dueAfter = c.deadline(s.returned, p.Limit, nil)
		base, appt = back, s.dueAfter
	}
	if l.outcome == outStopped {
		l.applyCut()
		g.finish(l, dv)
		return
	}

	// The rest of the work, from base to the end of processing.
	apptP := c.pos(appt)
	dueDay := c.workDay(appt) // working-day index of the appointment's date
	rest := apptP - base      // office seconds left to the appointment
	work := int64(speed * float64(rest))
	switch l.outcome {
	case outLate, outStuck:
		// Processed on a working day after the appointment's.
		end := (dueDay+1)*dayLen + int64(extra) + 60
		work = min(work, end-base)
		extra = float64(end - base - work)
	default:
		work = min(work, rest-60)
		extra = 0
	}
	cur := base
	for k := 0; k < p.Steps; k++ {
		st := &l.steps[k]
		if k > 0 {
			st.start = c.at(cur)
		}
		d := max(int64(share[k]*float64(work)), 120)
		stepDue := cur + max(int64(share[k]*float64(rest)), 120)
		if k == culprit {
			d += int64(extra)
		}
		if k == p.Steps-1 && payment {
			// The fee is asked for during the last step; an on-time dossier's
			// citizen pays within the time left.
			pp := cur + int64(r.between(0.3, 0.6)*float64(d))
			l.payReq = c.at(pp)
			wait := r.between(600, 7200)
			if r.chance(0.3) {
				wait = r.between(3600, 3*daySec)
			}
			paid := max(c.pos(l.payReq+int64(wait))+g.jitter(&r), pp+60)
			if slack := apptP - 60 - (cur + d); l.outcome != outLate && l.outcome != outStuck && paid-pp > slack {
				paid = pp + max(30, int64(r.between(0.3, 0.9)*float64(slack)))
			}
			l.paid = c.at(paid)
			l.payOnline = l.channel == dvcwatch.ChannelOnline || r.chance(0.3)
			d += paid - pp
			stepDue += paid - pp
		}
		if k == p.Steps-1 && l.outcome == outOnTime && r.chance(sameDayLateShare) {
			// Processed on the appointment's date, hours after its time: on
			// time by date.
			if room := (dueDay+1)*dayLen - 60 - apptP; room > 600 {
				shift := apptP + int64(r.between(0.1, 0.9)*float64(room)) - (cur + d)
				d += shift
				stepDue += shift
			}
		}
		cur += d
		st.finish = c.at(cur)
		st.due = c.atEnd(stepDue)
	}
	l.processed = l.steps[p.Steps-1].finish
	// Results go out online at once; at the desk most citizens come by their
	// appointment, some days later (not the office's delay), a few weeks later.
	var wait float64
	switch {
	case l.channel == dvcwatch.ChannelOnline:
		wait = r.between(300, 3*3600)
	case r.chance(0.08):
		wait = r.between(20, 60) * daySec
	case apptP > cur+120 && r.chance(0.75):
		l.returned = c.at(cur + 60 + int64(r.between(0, 1)*float64(apptP-cur-60)))
	default:
		wait = r.between(3600, 5*daySec)
	}
	if l.returned == 0 {
		l.returned = c.at(max(c.pos(l.processed+int64(wait))+g.jitter(&r), cur+60))
	}
	if l.outcome == outWithdrawn {
		// Before any supplement request: a withdrawal while the citizen owes
		// documents would end the dossier with no appointment in force.
		last := cur
		if l.nSupp > 0 {
			last = c.pos(l.supps[0].requested)
		}
		l.cut = c.at(inProg + int64(r.between(0.05, 0.95)*float64(last-inProg)))
		l.cutKind = evWithdrawn
	}
	if l.outcome == outLate || l.outcome == outStuck {
		g.apologies(&r, l, head, base, apptP, dueDay, cur)
	}
	if l.cut != 0 {
		l.applyCut()
	}
	g.finish(l, dv)
}

// outcomeOf draws how a dossier ends from u in [0, 1), late ones with
// probability late.
func outcomeOf(u, late float64) outcome {
	other := refusedShare + withdrawnShare + stoppedShare
	switch {
	case u < refusedShare:
		return outRefused
	case u < refusedShare+withdrawnShare:
		return outWithdrawn
	case u < other:
		return outStopped
	case u < other+(1-stuckOfLate)*late:
		return outLate
	case u < other+late:
		return outStuck
	}
	return outOnTime
}

// lateShares spreads the share of late dossiers over the procedures: long,
// complex ones (land, construction, allowances) are late more often than a
// certified copy due in four office hours, and the average stays share.
func lateShares(procs []Procedure, share float64) []float64 {
	weight := func(l sla.Limit) float64 {
		switch {
		case l.Unit == sla.WorkingHours:
			return 0.3
		case l.Unit == sla.Months || l.Amount >= 10:
			return 2.5
		}
		return 1
	}
	var sum, total float64
	for _, p := range procs {
		sum += float64(p.weight) * weight(p.Limit)
		total += float64(p.weight)
	}
	out := make([]float64, len(procs))
	for i, p := range procs {
		out[i] = min(maxLateShare, share*weight(p.Limit)*total/sum)
	}
	return out
}

// submission returns when an online dossier the desk receives at office
// position slot (the instant recv) was submitted: at any hour, mostly a few
// office hours at most before; a few wait a working day or two. Never more
// than maxLead before, so the dossier exists in every view it is submitted in.
func (g *gen) submission(r *rng, slot, recv int64) int64 {
	c := g.clock
	var at int64
	if r.chance(slowReceptionShare) {
		at = c.at(slot - int64(r.between(1, 2.5)*float64(c.dayLen)))
	} else {
		at = recv - int64(r.between(1200, 60*3600))
		if slot-c.pos(at) > quickReception {
			at = c.at(slot - int64(r.between(600, quickReception)))
		}
	}
	return max(at, recv-maxLead+60)
}

// apologies plans the apology letters (form 04) of a late dossier processed at
// office position end, whose appointment at apptP falls on working day dueDay
// and was set at base. Most are issued in time (on or before the last working
// day before the appointment's date), some on it or later, some never; a very
// few set a new date twice.
func (g *gen) apologies(r *rng, l *life, head int, base, apptP, dueDay, end int64) {
	c := g.clock
	dayLen := float64(c.dayLen)
	lo, hi := base+60, dueDay*c.dayLen-60 // in time
	var issue int64
	switch m := r.float(); {
	case m < timelyApologyShare && hi > lo:
		issue = max(lo, hi-int64(r.between(0, 1.5)*dayLen))
	case m < timelyApologyShare+lateApologyShare:
		issue = max(lo, min(dueDay*c.dayLen+int64(r.between(0, 1.5)*dayLen), end-120))
	default:
		return
	}
	if issue >= end-60 {
		return
	}
	var newDue int64
	switch {
	case l.outcome == outLate && !r.chance(0.2):
		newDue = end + int64(r.between(0.05, 1.5)*dayLen) // kept
	default:
		newDue = max(apptP, issue) + int64(r.between(0.3, 12)*dayLen)
	}
	l.apol[0] = lapology{issued: c.at(issue), newDue: c.atEnd(newDue), issuer: int16(head), reason: uint8(r.intn(len(apologyReasons)))}
	l.nApol = 1
	if (l.outcome == outStuck && r.chance(0.12)) || (l.outcome == outLate && r.chance(0.02)) {
		issue2 := max(newDue-int64(r.between(0.5, 2)*dayLen), issue+3600)
		if issue2 < end-60 {
			newDue2 := max(newDue, issue2) + int64(r.between(5, 30)*dayLen)
			l.apol[1] = lapology{issued: c.at(issue2), newDue: c.atEnd(newDue2), issuer: int16(head), reason: uint8(r.intn(len(apologyReasons)))}
			l.nApol = 2
		}
	}
}

// jitter spreads what happens "when the office opens" over its first ninety
// minutes: a wall-clock delay that ends after hours maps to the next opening,
// and thousands of updates in one second would leave DVCQG's 413 unresolvable.
func (g *gen) jitter(r *rng) int64 { return int64(r.between(0, 5400)) }

// applyCut drops whatever the plan had after the dossier was withdrawn or stopped.
func (l *life) applyCut() {
	x := l.cut
	drop := func(t *int64) {
		if *t > x {
			*t = 0
		}
	}
	n := 0
	for k := 0; k < l.nSteps; k++ {
		if l.steps[k].start <= x {
			drop(&l.steps[k].finish)
			n = k + 1
		}
	}
	l.nSteps = n
	n = 0
	for j := 0; j < l.nSupp; j++ {
		s := &l.supps[j]
		if s.requested <= x {
			if s.returned > x {
				s.returned, s.dueAfter = 0, 0
			}
			n = j + 1
		}
	}
	l.nSupp = n
	if l.payReq > x {
		l.payReq, l.payOnline = 0, false
	}
	if l.paid > x {
		l.paid = 0
	}
	n = 0
	for j := 0; j < l.nApol; j++ {
		if l.apol[j].issued <= x {
			n = j + 1
		}
	}
	l.nApol = n
	drop(&l.processed)
	drop(&l.returned)
}

// finish lists the events in time order and draws the national copy.
func (g *gen) finish(l *life, dv dvRates) {
	add := func(at int64, k evKind) {
		if at != 0 {
			l.ev[l.nEv] = event{at, k}
			l.nEv++
		}
	}
	add(l.submitted, evSubmitted)
	add(l.received, evReceived)
	add(l.refused, evRefused)
	for k := 0; k < l.nSteps; k++ {
		if k == 0 {
			add(l.steps[0].start, evInProgress)
		}
		if k < l.nSteps-1 {
			add(l.steps[k].finish, evStepDone)
		}
	}
	for j := 0; j < l.nSupp; j++ {
		add(l.supps[j].requested, evSuppRequested)
		add(l.supps[j].returned, evSuppReturned)
	}
	add(l.payReq, evPayRequested)
	add(l.paid, evPaid)
	for j := 0; j < l.nApol; j++ {
		add(l.apol[j].issued, evApology)
	}
	add(l.processed, evProcessed)
	add(l.returned, evReturned)
	add(l.cut, l.cutKind)
	// Insertion sort: a score of events, already nearly in order.
	ev := l.ev[:l.nEv]
	for a := 1; a < len(ev); a++ {
		for b := a; b > 0 && (ev[b].at < ev[b-1].at || (ev[b].at == ev[b-1].at && ev[b].kind < ev[b-1].kind)); b-- {
			ev[b], ev[b-1] = ev[b-1], ev[b]
		}
	}

	r := newRNG(g.seed, streamDVCQG, l.idx)
	l.dvMissing = r.float() < dv.missing
	mismatch := r.float() < dv.mismatch
	lagging := r.float() < dv.lag
	lagMinutes, lagSeconds := r.between(3, 90), r.between(0, 120)
	upTo := r.intn(max(l.nEv-1, 1))
	l.dvLag = int64(lagSeconds)
	if lagging {
		l.dvLag = int64(lagMinutes * 60)
	}
	l.dvUpTo = l.nEv - 1
	if mismatch && l.nEv >= 2 {
		l.dvUpTo = upTo
	}
}

// first returns the instant the dossier comes into existence.
func (l *life) first() int64 { return l.ev[0].at }

// at returns the status and update time at t, and how many events happened by
// then; status 0 means the dossier does not exist yet.
func (l *life) at(t int64) (st dvcwatch.Status, updated int64, n int) {
	for n < l.nEv && l.ev[n].at <= t {
		if s := statusAfter[l.ev[n].kind]; s != 0 {
			st = s
		}
		updated = l.ev[n].at
		n++
	}
	return st, updated, n
}

// dvAt returns, for the national copy at t, the instant of the one-stop record it
// mirrors and its own update time; ok is false while DVCQG does not have it.
func (l *life) dvAt(t int64) (asOf, updated int64, ok bool) {
	if l.dvMissing {
		return 0, 0, false
	}
	for j := l.dvUpTo; j >= 0; j-- {
		if l.ev[j].at+l.dvLag <= t {
			return l.ev[j].at, l.ev[j].at + l.dvLag, true
		}
	}
	return 0, 0, false
}

// nextChange returns the first instant after t at which either portal's record
// of the dossier changes, or 0 when neither ever will.
func (l *life) nextChange(t int64) int64 {
	var next int64
	for j := 0; j < l.nEv; j++ {
		if l.ev[j].at > t {
			next = l.ev[j].at
			break
		}
	}
	if !l.dvMissing {
		for j := 0; j <= l.dvUpTo; j++ {
			if u := l.ev[j].at + l.dvLag; u > t {
				if next == 0 || u < next {
					next = u
				}
				break
			}
		}
	}
	return next
}

// dueAt returns the due date on the record at t: the receipt's, moved by every
// supplement round returned by then.
func (l *life) dueAt(t int64) int64 {
	due := l.due0
	for j := 0; j < l.nSupp; j++ {
		if s := l.supps[j]; s.returned != 0 && s.returned <= t {
			due = s.dueAfter
		}
	}
	return due
}
