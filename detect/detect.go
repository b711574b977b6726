// Package detect runs detection passes: it evaluates stored dossiers against
// the deadline rules (package breach), decides what that changes about their
// recorded breaches (lifecycle, a pure function) and records it, with the
// alerts the notifier plans, in one transaction per page; then the notifier
// turns the pending alerts into digest emails.
//
// A pass is incremental, proportional to what changed: each dossier stores
// its next check, the earliest time at which time alone could change its
// breaches (due soon, overdue, critical, a step late, an online submission
// not received; breach.Rules.Judge) or whom the notifier tells of them (a
// repeat, an escalation rule's threshold; Notifier.Replan). A write to a
// dossier brings its next check forward (the store marks it); a pass
// brings forward the dossiers whose reconciliation findings changed since
// the last one, then evaluates those whose next check has come, and stores
// their new next checks with their breaches. A full
// sweep of every dossier runs when the last one is older than
// detect.full_sweep_every (the safety net), when the configuration the next
// checks were computed by changed (limits, calendar, thresholds, people,
// escalation, repeats), when a silence ended since the last pass (what it
// held back is told by the next planning of its breaches), or when asked.
package detect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/breach"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/internal/prefetch"
	"github.com/dvcwatch/dvcwatch/lease"
	"github.com/dvcwatch/dvcwatch/sla"
)

// ErrBusy means another detection pass holds the lease.
var ErrBusy = lease.ErrBusy

// stateName keys the detector's state and lease; one detector per database.
const stateName = "detect"

// pageSize is how many dossiers one transaction evaluates and records.
const pageSize = 1000

// findingsOverlap is how far before the last pass's start an incremental
// pass looks for reconciliation findings that changed: a change's time is
// taken when its transaction begins, and one that began before the last
// pass and committed after that pass read the dossier would be missed
// otherwise. It also absorbs some clock skew between replicas. (Writes to
// dossiers need none: ApplyPage marks them in their own transaction.)
const findingsOverlap = 5 * time.Minute

// Store is what a detection pass reads and writes.
type Store interface {
	lease.Store
	Transactor
	// ScanDossiers calls fn with the dossiers f selects, a page at a time.
	ScanDossiers(ctx context.Context, f dvcwatch.ScanFilter, pageSize int, fn func(dvcwatch.ScannedPage) error) error
	// MarkChanged brings forward to the next incremental scan the dossiers
	// whose findings against mirror changed after after (wall clock), and
	// returns how many.
	MarkChanged(ctx context.Context, after time.Time, mirror string) (int, error)
	DetectorState(ctx context.Context, name string) (s dvcwatch.DetectorState, ok bool, err error)
	SaveDetectorState(ctx context.Context, name string, s dvcwatch.DetectorState) error
	OpenBreachCounts(ctx context.Context) (map[dvcwatch.BreachKind]int, error)
	// ActiveSilences returns the silences active at a time.
	ActiveSilences(ctx context.Context, at time.Time) ([]dvcwatch.Silence, error)
}

// Notifier decides who is told of breaches and tells them (notify.Service).
type Notifier interface {
	// Plan decides, inside a page's transaction, who must be told now
	// about each unresolved breach.
	Plan(now time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent
	// Replan returns the earliest time after now at which Plan, given st
	// as it will be once the alerts Plan decided at now are recorded, could
	// decide to tell someone of it without a change to the breach (a
	// repeat, an escalation rule's overdue threshold); zero: never.
	Replan(now time.Time, st dvcwatch.BreachState) time.Time
	// Notify turns the pending alerts into emails as of now and returns
	// how many it created.
	Notify(ctx context.Context, now time.Time) (int, error)
}

// Detector runs detection passes over one store.
type Detector struct {
	store    Store
	notifier Notifier
	rules    map[string]breach.Rules // by agency; "" for agencies not configured
	limits   map[string]sla.Limit
	cfg      config.Detect
	mirror   string
	config   string // fingerprint of what the next checks are computed by (DetectorState.Config)
	log      *slog.Logger
}

// New builds a detector from a validated configuration: the rules are
// counted on dir's schedules, and the breaches recorded are told through
// notifier.
func New(cfg *config.Config, st Store, dir *directory.Directory, notifier Notifier, log *slog.Logger) (*Detector, error) {
	if log == nil {
		log = slog.Default()
	}
	d := &Detector{
		store: st, notifier: notifier, cfg: cfg.Detect, limits: map[string]sla.Limit{}, rules: map[string]breach.Rules{},
		log: log,
	}
	var err error
	pauses := map[string]bool{}
	for _, p := range cfg.Procedures {
		l, err := sla.ParseLimit(p.Limit)
		if err != nil {
			return nil, fmt.Errorf("procedure %s: %w", p.Code, err)
		}
		d.limits[p.Code] = l
		pauses[p.Code] = p.Supplement == config.SupplementPause
	}
	for _, c := range cfg.Connectors {
		if c.MirrorOf != "" {
			d.mirror = c.Name // the national portal, mirroring the one-stop system
		}
	}
	var escalate sla.Limit // zero: the rules' default of two working days
	if cfg.Detect.EscalateAfter != "" {
		if escalate, err = sla.ParseLimit(cfg.Detect.EscalateAfter); err != nil {
			return nil, fmt.Errorf("detect.escalate_after: %w", err)
		}
	}
	var within, receive sla.Limit // zero: the rules' defaults from Decree 118/2025/NĐ-CP
	if cfg.Detect.SupplementWithin != "" {
		if within, err = sla.ParseLimit(cfg.Detect.SupplementWithin); err != nil {
			return nil, fmt.Errorf("detect.supplement_within: %w", err)
		}
	}
	if cfg.Detect.ReceiveWithin != "" {
		if receive, err = sla.ParseLimit(cfg.Detect.ReceiveWithin); err != nil {
			return nil, fmt.Errorf("detect.receive_within: %w", err)
		}
	}
	lateness := map[string]string{"": config.LatenessDate}
	for _, a := range cfg.Agencies {
		lateness[a.Code] = a.Lateness
	}
	if d.config, err = fingerprint(cfg, dir); err != nil {
		return nil, err
	}
	for code, by := range lateness {
		s := dir.Schedule(code)
		after := time.Duration(escalate.Amount) * time.Hour
		if escalate.Unit == sla.WorkingDays {
			after = time.Duration(escalate.Amount) * s.Hours().DayLength()
		}
		d.rules[code] = breach.Rules{
			Schedule: s, Limit: d.limit, SupplementPauses: func(code string) bool { return pauses[code] },
			ByMinute: by == config.LatenessMinute, DueSoonHours: cfg.Detect.DueSoonHours,
			DueSoonShare: cfg.Detect.DueSoonShare, EscalateAfter: after, SupplementWithin: within.Amount,
			ReceiveWithin: time.Duration(receive.Amount) * time.Hour, People: dir,
		}
	}
	return d, nil
}

func (d *Detector) limit(code string) (sla.Limit, bool) {
	l, ok := d.limits[code]
	return l, ok
}

// Rules returns the rules a pass judges agency's dossiers by: its schedule and
// lateness, the procedures' limits, the thresholds of detect; an agency not
// configured gets the calendar's defaults.
func (d *Detector) Rules(agency string) breach.Rules {
	if r, ok := d.rules[agency]; ok {
		return r
	}
	return d.rules[""]
}

// Options tune one pass.
type Options struct {
	Now    time.Time // the evaluation time; zero: the wall clock
	Full   bool      // evaluate every dossier whatever the last full sweep
	Holder string    // who runs the pass, for the lease
}

// Result counts one pass.
type Result struct {
	Full          bool
	Upgrade       bool // the first sweep with new rules: see Page.Upgrade
	Marked        int  // dossiers an incremental pass brought forward for their reconciliation findings
	Evaluated     int
	Unevaluable   int // dossiers whose rules could not be computed (logged); their breaches are kept as they were
	New           map[dvcwatch.BreachKind]int
	Open          map[dvcwatch.BreachKind]int // unresolved breaches after the pass
	Updated       int
	Reopened      int
	Resolved      int
	Alerts        int // recipient-breach alerts decided
	Silenced      int // breaches recorded but not planned, an active silence matching them
	Notifications int // digest emails created
}

// Counts flattens the result for job records and the CLI.
func (r Result) Counts() map[string]int {
	m := map[string]int{
		"marked": r.Marked, "evaluated": r.Evaluated, "unevaluable": r.Unevaluable, "updated": r.Updated, "reopened": r.Reopened,
		"resolved": r.Resolved, "alerts": r.Alerts, "silenced": r.Silenced, "notifications": r.Notifications,
	}
	if r.Full { // job runs and the soak tell a sweep from an incremental pass by it
		m["full"] = 1
	}
	for k, n := range r.New {
		m["new_"+string(k)] = n
	}
	for k, n := range r.Open {
		m["open_"+string(k)] = n
	}
	return m
}

// Run runs one pass: evaluate, record, plan alerts, compose emails, enqueue.
// The error wraps ErrBusy if another pass is running.
func (d *Detector) Run(ctx context.Context, opts Options) (Result, error) {
	res := Result{New: map[dvcwatch.BreachKind]int{}}
	started := time.Now()
	now := opts.Now
	if now.IsZero() {
		now = started
	}
	holder := opts.Holder
	if holder == "" {
		holder = "dvcwatch"
	}
	ctx, release, err := lease.Hold(ctx, d.store, "detect", holder, d.log)
	if err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	defer release()

	state, ok, err := d.store.DetectorState(ctx, stateName)
	if err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	// Rules of another version than those the breaches were recorded by:
	// sweep everything, and tell nobody of what only the change of rules
	// made (see Page.Upgrade).
	res.Upgrade = ok && state.RulesVersion != breach.Version
	res.Full = opts.Full || !ok || res.Upgrade || state.LastFullAt.IsZero() || started.Sub(state.LastFullAt) >= d.cfg.FullSweepEvery ||
		state.Config != d.config
	// The silences in force at the pass's time, read once. One created
	// while the pass runs mutes its breaches from the next pass on; the
	// alerts this pass plans for them meanwhile are held back by the
	// composer (notify.Service.Notify).
	silences, err := d.store.ActiveSilences(ctx, now)
	if err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	if !res.Full {
		// A silence that ended since the last pass held back breaches
		// whose dossiers' next checks say nothing of it: plan them all.
		if res.Full, err = d.silenceEnded(ctx, state.LastNow, now); err != nil {
			return res, fmt.Errorf("detect: %w", err)
		}
	}
	if !res.Full {
		if res.Marked, err = d.store.MarkChanged(ctx, state.LastRunAt.Add(-findingsOverlap), d.mirror); err != nil {
			return res, fmt.Errorf("detect: %w", err)
		}
	}
	filter := dvcwatch.ScanFilter{All: res.Full, Due: now, Mirror: d.mirror}
	page := func(p dvcwatch.ScannedPage) error { return d.page(ctx, p, now, silences, &res) }
	if err := d.scan(ctx, filter, page); err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}

	if res.Notifications, err = d.notifier.Notify(ctx, now); err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	if res.Open, err = d.store.OpenBreachCounts(ctx); err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	next := dvcwatch.DetectorState{LastRunAt: started, LastFullAt: state.LastFullAt, RulesVersion: state.RulesVersion,
		LastNow: now, Config: state.Config}
	if res.Full {
		next.LastFullAt, next.RulesVersion, next.Config = started, breach.Version, d.config
	}
	if err := d.store.SaveDetectorState(ctx, stateName, next); err != nil {
		return res, fmt.Errorf("detect: %w", err)
	}
	return res, nil
}

// scan calls fn with each page of the filter's dossiers, reading the next
// page while fn evaluates and records the current one: reads run in WAL
// snapshots (SQLite) or MVCC (PostgreSQL) beside the page's write
// transaction, and pages are disjoint sets of dossiers, so the overlap is
// safe and a pass takes about the longer of the two instead of their sum.
func (d *Detector) scan(ctx context.Context, filter dvcwatch.ScanFilter, fn func(dvcwatch.ScannedPage) error) error {
	return prefetch.Run(ctx, func(ctx context.Context, yield func(dvcwatch.ScannedPage) error) error {
		return d.store.ScanDossiers(ctx, filter, pageSize, yield)
	}, func(_ context.Context, p dvcwatch.ScannedPage) error { return fn(p) })
}

func (d *Detector) page(ctx context.Context, page dvcwatch.ScannedPage, now time.Time, silences []dvcwatch.Silence, res *Result) error {
	batch := Page{Now: now, Whole: page.Whole, Upgrade: res.Upgrade, Plan: d.notifier.Plan, Replan: d.notifier.Replan,
		Silences: silences, Checks: page.Checks,
		Dossiers: make([]dvcwatch.Evaluation, 0, len(page.Dossiers)), Verdicts: make([]dvcwatch.Verdict, 0, len(page.Dossiers))}
	for i, ds := range page.Dossiers {
		bs, verdict, next, err := d.Rules(ds.Agency).Judge(ds, now)
		batch.Checks[i].At = next
		if err != nil {
			// The dossier's stored data cannot be evaluated (e.g. a supplement
			// returned before it was requested): keep its breaches as they
			// are, say which dossier, and go on with the others. Time will
			// not mend it: the next write or full sweep looks again.
			res.Unevaluable++
			d.log.Warn("dossier not evaluated", "dossier", ds.Key.String(), "err", err)
			continue
		}
		for _, f := range page.Findings[ds.Key] {
			bs = append(bs, findingBreach(ds, f, d.mirror))
		}
		batch.Verdicts = append(batch.Verdicts, verdict)
		batch.Dossiers = append(batch.Dossiers, dvcwatch.Evaluation{
			Key: ds.Key, Agency: ds.Agency, Procedure: ds.ProcedureCode, Open: ds.Status.Open(), Breaches: bs,
		})
	}
	res.Evaluated += len(batch.Dossiers)
	r, err := RecordPage(ctx, d.store, batch)
	if err != nil {
		return err
	}
	for k, n := range r.New {
		res.New[k] += n
	}
	res.Updated += r.Updated
	res.Reopened += r.Reopened
	res.Resolved += r.Resolved
	res.Alerts += r.Alerts
	res.Silenced += r.Silenced
	return nil
}

// findingBreach turns a reconciliation finding into a breach of the dossier.
// Keeping the national portal in step is the agency's duty as a whole, so it
// is not attributed to a step's official; routing sends it to the office.
func findingBreach(d dvcwatch.Dossier, f dvcwatch.Finding, mirror string) dvcwatch.Breach {
	kind, detail := dvcwatch.BreachNotSynced, fmt.Sprintf("Chưa có trên %s / not on %s", mirror, mirror)
	if f.Kind == dvcwatch.FindingStatusMismatch {
		kind = dvcwatch.BreachPortalMismatch
		detail = fmt.Sprintf("%s hiển thị trạng thái %d, hệ thống một cửa %d / %s shows status %d, the one-stop system %d",
			mirror, f.MirrorStatus, f.TruthStatus, mirror, f.MirrorStatus, f.TruthStatus)
	}
	return dvcwatch.Breach{
		Kind: kind, Key: d.Key, Severity: dvcwatch.SeverityWarning,
		StartedAt: f.DetectedAt, DueAt: d.DueAt,
		Fingerprint: dvcwatch.BreachFingerprint(kind, d.Key, 0), Detail: detail,
	}
}
