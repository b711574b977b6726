package portalsim

import (
	"github.com/dvcwatch/dvcwatch"
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
	outLate
	outStuck // late by weeks or months: open and overdue for a long time
	outRefused
	outWithdrawn
	outStopped // a supplement never comes back
)

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

// plan fills l with dossier i's lifecycle.
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
	switch o := r.float(); {
	case o < 0.04:
		l.outcome = outRefused
	case o < 0.07:
		l.outcome = outWithdrawn
	case o < 0.09:
		l.outcome = outStopped
	case o < 0.21:
		l.outcome = outStuck
	case o < 0.37:
		l.outcome = outLate
	default:
		l.outcome = outOnTime
	}
	if l.channel == dvcwatch.ChannelOnline {
		// Online dossiers are submitted at any hour, up to maxLead before the desk
		// receives them.
		l.submitted = recv - int64(r.between(1200, 60*3600))
	}
	if l.outcome == outRefused {
		l.refused = recv
		g.finish(l, dv)
		return
	}
	l.received = recv
	l.due0 = c.deadline(recv, p.Limit, nil)
	limSpan := float64(c.pos(l.due0) - slot) // the limit in office seconds
	dayLen := float64(c.dayLen)

	// Shares of the limit by step, how fast the office works, and where a late
	// dossier loses its time.
	var share [3]float64
	if p.Steps == 3 {
		share[0] = r.between(0.5, 0.65)
		share[1] = r.between(0.2, 0.3)
		share[2] = 1 - share[0] - share[1]
	} else {
		share[0] = r.between(0.6, 0.75)
		share[1] = 1 - share[0]
	}
	speed := r.between(0.45, 0.95)
	if l.outcome == outOnTime {
		speed = r.between(0.3, 0.88)
	}
	var extra float64
	switch l.outcome {
	case outLate:
		extra = r.between(0.15, 6) * dayLen
	case outStuck:
		extra = r.between(10, 90) * dayLen
	}
	culprit := 0
	if !r.chance(0.6) {
		culprit = 1 + r.intn(p.Steps-1)
	}
	nSupp := 0
	switch x := r.float(); {
	case x < 0.04:
		nSupp = 2
	case x < 0.15:
		nSupp = 1
	}
	if l.outcome == outStopped {
		nSupp = max(nSupp, 1)
	}
	payment := r.chance(p.fee)
	head, others := g.staff[p.Department][0], g.staff[p.Department][1:]
	officials := [3]int16{int16(others[r.intn(len(others))]), int16(head), int16(g.deskOfficial)}

	cur := slot + max(60, int64(r.between(0.01, 0.06)*limSpan)) // in progress
	inProg := cur
	var pauses [2]span
	curDue := l.due0
	l.nSteps = p.Steps
planning:
	for k := 0; k < p.Steps; k++ {
		st := &l.steps[k]
		st.official, st.content = officials[k], uint8(k)
		st.start = c.at(cur)
		// Supplements and payment come at a share of the nominal work; a late
		// step loses its extra time after them.
		nominal := max(int64(share[k]*speed*limSpan), 120)
		work := nominal
		if k == culprit {
			work += int64(extra)
		}
		stepDue := cur + max(int64(share[k]*limSpan), 60)
		pos, done := cur, int64(0)
		// The citizen is asked for documents during the first step; the fee is
		// collected during the last.
		var stops [2]float64
		n := 0
		if k == 0 {
			switch nSupp {
			case 1:
				stops[0], n = 0.5, 1
			case 2:
				stops[0], stops[1], n = 0.3, 0.7, 2
			}
		}
		for j := 0; j < n; j++ {
			w := int64(stops[j] * float64(nominal))
			pos += w - done
			done = w
			req := c.at(pos)
			s := &l.supps[j]
			l.nSupp = j + 1
			s.requested, s.dueBefore = req, curDue
			if l.outcome == outStopped && j == n-1 {
				// Never returned: the office stops the dossier weeks later.
				l.cut, l.cutKind = c.at(c.pos(req+int64(r.between(15, 30)*daySec))+g.jitter(&r)), evStopped
				l.nSteps = k + 1
				break planning
			}
			back := max(c.pos(req+int64(r.between(0.5, 12)*daySec))+g.jitter(&r), pos+60)
			s.returned = c.at(back)
			pauses[j] = span{req, s.returned}
			s.dueAfter = c.deadline(recv, p.Limit, pauses[:j+1])
			curDue = s.dueAfter
			stepDue += back - pos
			pos = back
		}
		if k == p.Steps-1 && payment {
			w := nominal / 2
			pos += w - done
			done = w
			l.payReq = c.at(pos)
			wait := r.between(600, 7200)
			if r.chance(0.3) {
				wait = r.between(3600, 3*daySec)
			}
			back := max(c.pos(l.payReq+int64(wait))+g.jitter(&r), pos+60)
			l.paid = c.at(back)
			l.payOnline = l.channel == dvcwatch.ChannelOnline || r.chance(0.3)
			stepDue += back - pos
			pos = back
		}
		pos += work - done
		st.finish = c.at(pos)
		st.due = c.atEnd(stepDue)
		cur = pos
	}
	if l.cut == 0 {
		l.processed = l.steps[p.Steps-1].finish
		var wait float64
		switch {
		case l.channel == dvcwatch.ChannelOnline:
			wait = r.between(300, 3*3600)
		case r.chance(0.08):
			wait = r.between(20, 60) * daySec // nobody comes for the result
		default:
			wait = r.between(3600, 5*daySec)
		}
		l.returned = c.at(max(c.pos(l.processed+int64(wait))+g.jitter(&r), cur+60))
	}
	if l.outcome == outWithdrawn {
		l.cut = c.at(inProg + int64(r.between(0.05, 0.95)*float64(cur-inProg)))
		l.cutKind = evWithdrawn
	}

	// Apology letters for dossiers that will be late: mostly on time (at least a
	// working day before the due date), some late, some never; some rescheduled twice.
	if (l.outcome == outLate || l.outcome == outStuck) && l.processed > curDue {
		dueP, doneP := c.pos(curDue), c.pos(l.processed)
		issue := int64(-1)
		switch m := r.float(); {
		case m < 0.65:
			issue = dueP - int64(r.between(1, 2.5)*dayLen)
		case m < 0.8:
			issue = dueP + int64(r.between(0.1, 2)*dayLen)
		}
		reason := uint8(r.intn(len(apologyReasons)))
		if issue >= 0 {
			issue = max(issue, inProg+60)
		}
		if issue >= 0 && issue < doneP-60 {
			var newDue int64
			if l.outcome == outLate && !r.chance(0.2) {
				newDue = doneP + int64(r.between(0.05, 1.5)*dayLen)
			} else {
				newDue = max(dueP, issue) + int64(r.between(0.3, 12)*dayLen)
			}
			l.apol[0] = lapology{issued: c.at(issue), newDue: c.atEnd(newDue), issuer: int16(head), reason: reason}
			l.nApol = 1
			if (l.outcome == outStuck && r.chance(0.35)) || (l.outcome == outLate && r.chance(0.08)) {
				issue2 := max(newDue-int64(r.between(0.5, 2)*dayLen), issue+3600)
				if issue2 < doneP-60 {
					newDue2 := max(newDue, issue2) + int64(r.between(5, 30)*dayLen)
					l.apol[1] = lapology{issued: c.at(issue2), newDue: c.atEnd(newDue2), issuer: int16(head), reason: uint8(r.intn(len(apologyReasons)))}
					l.nApol = 2
				}
			}
		}
	}
	if l.cut != 0 {
		l.applyCut()
	}
	g.finish(l, dv)
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
