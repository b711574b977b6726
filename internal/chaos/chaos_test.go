//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/jobs"
)

// chaosCase breaks one part of the stack and repairs it; the suite then
// lets the stack settle and measures what the case left behind.
type chaosCase struct {
	name string
	run  func(t *testing.T, s *stack, r *caseRun)
	// adminRetry: the case ends with rows refused for good, which an
	// administrator retries through the admin API once the cause is gone.
	adminRetry bool
	// smtpWindow: a duplicate is SMTP's own window (a sender killed while
	// the server answers the end of DATA), reported per kill, not failed.
	smtpWindow bool
}

// caseRun is what a case records as it runs.
type caseRun struct {
	from  int64       // the newest outbox row before the case: its rows are newer
	kills []time.Time // when the case SIGKILLed a sender, for duplicates per kill
	note  string
}

// result is one row of the printed table.
type result struct {
	name                          string
	emails, lost, dup, unresolved int
	perKill                       []int
	truth                         truth
	dupEvents                     int
	took                          time.Duration
	note                          string
	failed                        bool
}

// The simulated time each case advances: its changes are the case's sync,
// its new breaches the case's emails.
const caseAdvance = 12 * 60

var cases = []chaosCase{
	{name: "no fault (baseline)", run: func(t *testing.T, s *stack, r *caseRun) { s.advance(t, caseAdvance) }},
	{name: "portal faults", run: portalFaults},
	{name: "SIGKILL mid-sync", run: killMidSync},
	{name: "SIGKILL mid-detect", run: killMidDetect},
	{name: "SIGKILL mid-delivery x5", run: killMidDelivery, smtpWindow: true},
	{name: "Redis FLUSHALL", run: func(t *testing.T, s *stack, r *caseRun) {
		s.duringDelivery(t, func() {
			c := s.redisClient()
			defer c.Close()
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		})
	}},
	{name: "Redis kill -9, restart", run: func(t *testing.T, s *stack, r *caseRun) {
		s.duringDelivery(t, func() {
			s.redis.Kill(t)
			time.Sleep(2 * time.Second)
			s.redis.Restart(t)
		})
	}},
	{name: "PostgreSQL restart", run: func(t *testing.T, s *stack, r *caseRun) {
		s.duringDelivery(t, func() { s.pg.restart(t) })
	}},
	{name: "PostgreSQL outage 20 s", run: func(t *testing.T, s *stack, r *caseRun) {
		s.duringDelivery(t, func() {
			s.pg.stop(t, "immediate")
			time.Sleep(20 * time.Second)
			s.pg.start(t)
		})
		// A Redis that lost its data re-enqueues every row the outbox holds
		// undelivered: one "sent but not recorded" would go out again.
		c := s.redisClient()
		defer c.Close()
		if err := c.FlushAll(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "SMTP down, then up", run: smtpDownUp},
	{name: "SMTP slow end of DATA (12 s)", run: slowEndOfData},
	{name: "550, then admin retry", run: rejectThenRetry, adminRetry: true},
}

// TestChaos runs the cases in order against one stack, each measured on its
// own emails (the outbox rows it created), and prints one table.
func TestChaos(t *testing.T) {
	began := time.Now()
	s := startStack(t)
	var results []result
	for _, c := range cases {
		t.Run(strings.NewReplacer(" ", "_", ",", "").Replace(c.name), func(t *testing.T) {
			res := result{name: c.name}
			// Appended even when the case stopped half-way (t.Fatal).
			defer func() {
				res.failed = t.Failed()
				results = append(results, res)
			}()
			s.runCase(t, c, &res)
		})
	}
	t.Logf("the fault matrix, %s in all:\n%s", time.Since(began).Round(time.Second), table(results))
}

func (s *stack) runCase(t *testing.T, c chaosCase, res *result) {
	start := time.Now()
	s.ensureUp(t)
	r := &caseRun{from: s.maxNotification(t)}
	defer func() {
		res.took = time.Since(start).Round(time.Second)
		res.note = r.note
	}()
	s.setDetect(t, false)
	c.run(t, s, r)
	s.settle(t, r, c.adminRetry)

	// Measure.
	rows, err := s.rowsAfter(r.from)
	if err != nil {
		t.Fatal(err)
	}
	copies := s.copies()
	res.emails = len(rows)
	res.perKill = make([]int, len(r.kills))
	var failed []string
	for _, row := range rows {
		got := copies[row.messageID]
		switch {
		case len(got) == 0:
			res.lost++
			t.Errorf("notification %d (%s) never reached the mail server; sent=%v failed=%v %q",
				row.id, row.messageID, row.sent, row.failed, row.lastError)
		case len(got) > 1:
			res.dup += len(got) - 1
			if k := killBefore(r.kills, got[0].ReceivedAt); k >= 0 {
				res.perKill[k] += len(got) - 1
			}
		}
		if !row.sent {
			res.unresolved++
			failed = append(failed, fmt.Sprintf("%d: %s", row.id, row.lastError))
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d emails not recorded as sent (want every row sent; the mail server has %d of them); first: %s",
			len(failed), len(failed)-res.lost, failed[0])
	}
	if res.dup > 0 && !c.smtpWindow {
		t.Errorf("%d duplicate emails (same Message-ID) out of %d: want each delivered once", res.dup, res.emails)
	}
	var first string
	res.truth, first = s.truth(t)
	if res.truth != (truth{}) {
		t.Errorf("the store differs from the simulator: %+v; first: %s", res.truth, first)
	}
	if res.dupEvents = s.duplicateEvents(t); res.dupEvents > 0 {
		t.Errorf("%d status events recorded twice", res.dupEvents)
	}
	if res.emails == 0 {
		t.Errorf("the case created no email: it tested no delivery")
	}
}

// killBefore returns the index of the last kill at most 15 s before at
// (the first copy of a duplicate arrives as its sender dies), or -1.
func killBefore(kills []time.Time, at time.Time) int {
	k := -1
	for i, kt := range kills {
		if !kt.After(at) && at.Sub(kt) < 15*time.Second {
			k = i
		}
	}
	return k
}

// settle waits until the store equals the simulator, pauses detection (it
// judges by the wall clock, so a pass may find a new breach at any time),
// and waits until none of the case's emails is pending; with adminRetry,
// the refused ones are then retried as an administrator does.
func (s *stack) settle(t *testing.T, r *caseRun, adminRetry bool) {
	t.Helper()
	s.waitTruth(t, "the store never caught up with the simulator")
	s.setDetect(t, true)
	// A pass a SIGKILL orphaned runs when asynq recovers it: its lease
	// expires after 30 s, the recoverer looks every minute, then the retry
	// delay.
	e2e.WaitFor(t, 4*time.Minute, "a detection pass still queued", func() bool { return s.queued(t, jobs.TypeDetect) == 0 })
	s.waitDelivered(t, r)
	if adminRetry {
		s.api(t, http.MethodPost, "/api/v1/jobs/retry-archived")
		e2e.WaitFor(t, 3*time.Minute, "emails not sent after the administrator's retry", func() bool {
			rows, err := s.rowsAfter(r.from)
			if err != nil {
				return false
			}
			for _, row := range rows {
				if !row.sent {
					return false
				}
			}
			return true
		})
	}
	// A copy still on its way (a server answering late) arrives now.
	time.Sleep(3 * time.Second)
}

// waitDelivered waits until none of the case's rows is pending: each is
// sent or failed (refused, or "possibly delivered" for an administrator).
// A SIGKILLed delivery waits for asynq's recovery of its task (its lease
// expires after 30 s, the recoverer looks every minute), then for its claim
// on the row to go stale (under 5 minutes here, see smtpDataTimeout) and
// the retry delay.
func (s *stack) waitDelivered(t *testing.T, r *caseRun) {
	t.Helper()
	e2e.WaitFor(t, 10*time.Minute, "emails still pending", func() bool {
		rows, err := s.rowsAfter(r.from)
		if err != nil {
			return false
		}
		for _, row := range rows {
			if !row.sent && !row.failed {
				return false
			}
		}
		return true
	})
}

// waitTruth waits until the store equals the simulator's ground truth.
func (s *stack) waitTruth(t *testing.T, what string) {
	t.Helper()
	var got truth
	var first string
	deadline, logged := time.Now().Add(5*time.Minute), time.Now()
	for got, first = s.truth(t); got != (truth{}); got, first = s.truth(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%s within 5 minutes: %+v; first: %s", what, got, first)
		}
		if time.Since(logged) > 30*time.Second {
			t.Logf("waiting for the store: %+v; first: %s", got, first)
			logged = time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// setDetect pauses or resumes detection through the admin API, and waits
// until both replicas' schedulers have it: they re-read the overrides every
// 10 s and log each change; one started since read it at start.
func (s *stack) setDetect(t *testing.T, paused bool) {
	t.Helper()
	action := map[bool]string{true: "pause", false: "resume"}[paused]
	asked := time.Now()
	s.api(t, http.MethodPost, "/api/v1/schedules/detect/"+action)
	e2e.WaitFor(t, time.Minute, "both replicas applied the "+action+" of detection", func() bool {
		for i, p := range s.replicas {
			if s.startedAt[i].After(asked) {
				continue
			}
			var last map[string]any
			for _, e := range p.Log.Entries() {
				if e["msg"] == "scheduler: schedule changed" && e["schedule"] == "detect" {
					last = e
				}
			}
			// A resume of a schedule never paused changes nothing, and is not logged.
			if last == nil && !paused {
				continue
			}
			if last == nil || last["paused"] != paused {
				return false
			}
		}
		return true
	})
}

// advance moves the simulated time on by minutes, and on to Monday if that
// lands on a weekend: offices close then, so a weekend brings no change to
// sync and no breach to mail.
func (s *stack) advance(t *testing.T, minutes int) {
	t.Helper()
	if err := s.advanceWorkday(minutes); err != nil {
		t.Fatal(err)
	}
}

func (s *stack) advanceWorkday(minutes int) error {
	if _, err := s.sim.Advance(minutes); err != nil {
		return err
	}
	for wd := s.sim.Now().Weekday(); wd == time.Saturday || wd == time.Sunday; wd = s.sim.Now().Weekday() {
		if _, err := s.sim.Advance(24 * 60); err != nil {
			return err
		}
	}
	return nil
}

// waitActive polls (tightly: a detection pass is short) until a task of
// type typ is running.
func (s *stack) waitActive(t *testing.T, typ string, within time.Duration, except ...map[string]bool) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, id := range s.activeIDs(t, typ) {
			if len(except) == 0 || !except[0][id] {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// duringDelivery advances the simulated time and, while the mail server
// takes 0.2 s to answer each message (so that deliveries are in flight),
// runs fault once a delivery is running.
func (s *stack) duringDelivery(t *testing.T, fault func()) {
	t.Helper()
	s.mail.DelayReply(200 * time.Millisecond)
	defer s.mail.DelayReply(0)
	// Tasks a lost Redis or a killed replica left active are no delivery
	// of this case.
	stale := map[string]bool{}
	for _, id := range s.activeIDs(t, jobs.TypeDeliver) {
		stale[id] = true
	}
	s.advance(t, caseAdvance)
	if !s.waitActive(t, jobs.TypeDeliver, 2*time.Minute, stale) {
		t.Fatal("no delivery ran within 2 minutes of the advance")
	}
	fault()
}

func portalFaults(t *testing.T, s *stack, r *caseRun) {
	f := portalsim.DefaultFaults()
	f.ErrorRate, f.ThrottleRate, f.TimeoutRate, f.MalformedRate, f.TruncatedRate = 0.2, 0.1, 0.03, 0.1, 0.05
	f.DuplicateRate, f.OutOfOrder = 0.2, 1
	if err := s.sim.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.sim.SetFaults(portalsim.DefaultFaults()) }()
	faults := func() int64 {
		n := int64(0)
		for _, v := range s.sim.Stats().Faults {
			n += v
		}
		return n
	}
	before := faults()
	// Changes keep coming while the faults last, and the store must reach
	// the ground truth through them.
	for until := time.Now().Add(2 * time.Minute); faults()-before < 30 && time.Now().Before(until); {
		s.advance(t, 30)
		time.Sleep(3 * time.Second)
	}
	s.waitTruth(t, "the store never caught up with the simulator through its faults")
	r.note = fmt.Sprintf("%d portal faults served", faults()-before)
}

func killMidSync(t *testing.T, s *stack, r *caseRun) {
	// Every portal request 0.3 s slower: a sync is pages long.
	f := portalsim.DefaultFaults()
	f.SlowMS = 300
	if err := s.sim.SetFaults(f); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.sim.SetFaults(portalsim.DefaultFaults()) }()
	s.advance(t, caseAdvance)
	if !s.waitActive(t, jobs.TypeSync, time.Minute) {
		t.Fatal("no sync ran within a minute")
	}
	time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
	r.kills = append(r.kills, time.Now())
	s.kill(t, 0)
	s.kill(t, 1)
	r.note = "both replicas killed"
}

func killMidDetect(t *testing.T, s *stack, r *caseRun) {
	s.advance(t, caseAdvance)
	if !s.waitActive(t, jobs.TypeDetect, 2*time.Minute) {
		t.Fatal("no detection pass seen running within 2 minutes")
	}
	r.kills = append(r.kills, time.Now())
	s.kill(t, 0)
	s.kill(t, 1)
	r.note = "both replicas killed"
}

// killMidDelivery SIGKILLs a replica five times, alternately, at a random
// moment while deliveries run against a server that takes 0.3 s to answer
// the end of DATA, each replaced at once. The orphaned tasks are recovered
// together, once, after the last kill.
func killMidDelivery(t *testing.T, s *stack, r *caseRun) {
	s.mail.DelayReply(300 * time.Millisecond)
	defer s.mail.DelayReply(0)
	// A killed replica's deliveries stay active until asynq recovers them:
	// each kill waits for a delivery started since.
	orphans := map[string]bool{}
	for _, id := range s.activeIDs(t, jobs.TypeDeliver) {
		orphans[id] = true
	}
	stale := len(orphans)
	// A pass mails each official at most once: two hours of simulated time
	// every 3 s keeps new breaches, and so deliveries, coming.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			if err := s.advanceWorkday(120); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Second):
			}
		}
	}()
	defer func() { close(stop); <-stopped }()
	for k := range 5 {
		if !s.waitActive(t, jobs.TypeDeliver, 2*time.Minute, orphans) {
			t.Fatalf("no delivery running before kill %d", k+1)
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		for _, id := range s.activeIDs(t, jobs.TypeDeliver) {
			orphans[id] = true
		}
		r.kills = append(r.kills, time.Now())
		s.kill(t, k%2)
		time.Sleep(time.Second)
	}
	r.note = fmt.Sprintf("%d deliveries in flight at the kills (both replicas)", len(orphans)-stale)
}

func smtpDownUp(t *testing.T, s *stack, r *caseRun) {
	if err := s.mail.Close(); err != nil {
		t.Fatal(err)
	}
	up := false
	defer func() {
		if !up { // the case stopped half-way: the next needs a mail server
			_ = s.mail.Up()
		}
	}()
	s.advance(t, caseAdvance)
	e2e.WaitFor(t, 2*time.Minute, "no delivery attempt failed while the mail server was down", func() bool {
		rows, err := s.rowsAfter(r.from)
		if err != nil {
			return false
		}
		for _, row := range rows {
			if row.attempts > 0 && !row.sent {
				return true
			}
		}
		return false
	})
	time.Sleep(10 * time.Second)
	up = true
	if err := s.mail.Up(); err != nil {
		t.Fatal(err)
	}
}

// slowEndOfData: the server answers the end of each message after 12 s,
// past smtp.timeout (10 s); RFC 5321 allows it ten minutes. It accepts every
// message all the same, so a sender that gives up and sends again sends a
// duplicate.
func slowEndOfData(t *testing.T, s *stack, r *caseRun) {
	s.mail.DelayReply(12 * time.Second)
	defer s.mail.DelayReply(0)
	s.advance(t, caseAdvance)
	e2e.WaitFor(t, 2*time.Minute, "the advance created no email", func() bool {
		rows, err := s.rowsAfter(r.from)
		return err == nil && len(rows) > 0
	})
	s.waitDelivered(t, r)
}

// rejectThenRetry: the server refuses every recipient (550) until the
// rows fail; then it accepts them again and an administrator retries the
// archived deliveries through the admin API (settle does it).
func rejectThenRetry(t *testing.T, s *stack, r *caseRun) {
	officials := s.sim.Directory().Officials
	for _, o := range officials {
		s.mail.Reject(o.Email)
	}
	s.advance(t, caseAdvance)
	e2e.WaitFor(t, 2*time.Minute, "the advance created no email", func() bool {
		rows, err := s.rowsAfter(r.from)
		return err == nil && len(rows) > 0
	})
	s.waitDelivered(t, r)
	rows, err := s.rowsAfter(r.from)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, row := range rows {
		if row.failed && strings.Contains(row.lastError, "550") {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no email was refused with a 550")
	}
	r.note = fmt.Sprintf("%d refused, then retried by the admin", refused)
	for _, o := range officials {
		s.mail.Accept(o.Email)
	}
}

// table formats the results.
func table(rs []result) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "case\tresult\temails\tlost\tduplicated\tper kill\tnot sent\tstore ≠ sim (missing/extra/mismatched)\tdup. events\ttook\tnote")
	for _, r := range rs {
		perKill := "-"
		if len(r.perKill) > 1 {
			perKill = strings.Trim(fmt.Sprint(r.perKill), "[]")
		}
		verdict := "ok"
		if r.failed {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d/%d/%d\t%d\t%s\t%s\n", r.name, verdict, r.emails, r.lost, r.dup, perKill,
			r.unresolved, r.truth.missing, r.truth.extra, r.truth.mismatched, r.dupEvents, r.took, r.note)
	}
	_ = w.Flush()
	return b.String()
}
