package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/notify"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Store is what the tracker reads and writes; worker.HealthStore adapts
// *store.DB.
type Store interface {
	ConnectorHealths(ctx context.Context) ([]dvcwatch.ConnectorHealth, error)
	ConnectorHealth(ctx context.Context, connector string) (dvcwatch.ConnectorHealth, bool, error)
	RecentDeliveryAttempts(ctx context.Context, n int) ([]dvcwatch.DeliveryAttempt, time.Time, error)
	InTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is the part of one store transaction that recording a sync's outcome
// writes through.
type Tx interface {
	// SaveConnectorHealth writes h unless the row changed since h.Version
	// was read, and says whether it wrote.
	SaveConnectorHealth(ctx context.Context, h dvcwatch.ConnectorHealth, now time.Time) (bool, error)
	AddNotification(ctx context.Context, n dvcwatch.NewNotification, now time.Time) (id int64, created bool, err error)
}

// TxOf makes a Store's InTx from a store's InTx whose transactions (T) have
// the methods of Tx, e.g. TxOf(db.InTx) for *store.DB.
func TxOf[T Tx](inTx func(context.Context, func(T) error) error) func(context.Context, func(Tx) error) error {
	return func(ctx context.Context, fn func(Tx) error) error {
		return inTx(ctx, func(tx T) error { return fn(tx) })
	}
}

// Tracker gates scheduled runs of stopped connectors, records how each sync
// ended, and tells the administrators when a connector stops and recovers.
type Tracker struct {
	store      Store
	connectors map[string]config.Connector
	schedules  map[string][]string // a connector's sync schedules
	truth      map[string]string   // a mirror's source of truth (mirror_of)
	admins     []string
	send       func(ctx context.Context, ids []int64) error
	clock      clock.Clock
	log        *slog.Logger

	// own fingerprints each connector's configuration once per process: the
	// configuration does not change while it runs, and PBKDF2 is slow.
	own map[string]func() (string, error)

	mu      sync.Mutex
	matches map[string]bool // connector+fingerprint → it is this process's configuration's
}

// Options build a Tracker.
type Options struct {
	Store Store
	// Config gives the connectors (whose configuration is fingerprinted),
	// their schedules (named in the reason of a skipped run) and
	// notify.admins.
	Config *config.Config
	// Send hands new emails to the queue at once; nil leaves them in the
	// outbox for a worker's dispatcher (a command run by hand has no queue).
	Send   func(ctx context.Context, ids []int64) error
	Clock  clock.Clock // stamps the outcomes; nil: the wall clock
	Logger *slog.Logger
}

// New returns a tracker of the configured connectors.
func New(o Options) *Tracker {
	t := &Tracker{store: o.Store, connectors: map[string]config.Connector{}, schedules: map[string][]string{},
		admins: o.Config.Notify.Admins, send: o.Send, clock: clock.OrWall(o.Clock), log: o.Logger,
		truth: map[string]string{}, own: map[string]func() (string, error){}, matches: map[string]bool{}}
	if t.log == nil {
		t.log = slog.Default()
	}
	for _, k := range o.Config.Connectors {
		t.connectors[k.Name] = k
		if k.MirrorOf != "" {
			t.truth[k.Name] = k.MirrorOf
		}
		t.own[k.Name] = sync.OnceValues(func() (string, error) {
			fp, err := Fingerprint(k)
			if err == nil {
				t.mu.Lock()
				t.matches[k.Name+"\x00"+fp] = true
				t.mu.Unlock()
			}
			return fp, err
		})
	}
	for _, s := range o.Config.Schedules {
		if s.Job == config.JobSync {
			t.schedules[s.Connector] = append(t.schedules[s.Connector], s.Name)
		}
	}
	return t
}

// Warm fingerprints every connector's configuration now, so that the first
// permanent failure records its stop at once: a run that starts meanwhile
// is then refused rather than failing again. The worker calls it aside when
// it starts.
func (t *Tracker) Warm() {
	for name, own := range t.own {
		if _, err := own(); err != nil {
			t.log.Error("fingerprint connector configuration", "connector", name, "err", err)
		}
	}
}

// Gate returns nil when a run of connector may go ahead, and otherwise an
// error wrapping dvcwatch.ErrConnectorStopped that says why not: the
// connector stopped after a permanent failure, the configuration is the one
// it stopped with, and the run was not asked for by hand. A store that
// cannot be read lets the run go ahead: that is what dvcwatch did before it
// kept health, and the run's own failure says more.
func (t *Tracker) Gate(ctx context.Context, connector string, manual bool) error {
	if manual {
		return nil
	}
	h, ok, err := t.store.ConnectorHealth(ctx, connector)
	if err != nil {
		t.log.Warn("read connector health; running anyway", "connector", connector, "err", err)
		return nil
	}
	if !ok || h.State != dvcwatch.ConnectorStopped {
		return nil
	}
	if t.configChanged(h) {
		t.log.Info("connector stopped after a permanent failure, but its configuration changed since: running",
			"connector", connector, "stopped_at", h.Since)
		return nil
	}
	run := "dvcwatch schedules run <its sync schedule>"
	if s := t.schedules[connector]; len(s) > 0 {
		run = "dvcwatch schedules run " + s[0]
	}
	return fmt.Errorf("connector %s: %w at %s: %s; fix the configuration or run it by hand (%s)", connector,
		dvcwatch.ErrConnectorStopped, h.Since.In(sla.Location()).Format("2006-01-02 15:04 -07"), h.Cause.Text().English, run)
}

// GateReconcile is Gate for a reconciliation of mirror with its source of
// truth: either one stopped refuses it, since comparing a copy that is no
// longer refreshed would record as missing or different every dossier that
// changed since (and mail the office about each).
//
// Either one that has not completed a sync refuses it too, by hand or not:
// a copy not yet fetched would make every dossier look missing.
func (t *Tracker) GateReconcile(ctx context.Context, mirror string, manual bool) error {
	if err := t.Gate(ctx, mirror, manual); err != nil {
		return err
	}
	truth := t.truth[mirror]
	if truth != "" {
		if err := t.Gate(ctx, truth, manual); err != nil {
			return fmt.Errorf("reconcile %s with its source of truth: %w", mirror, err)
		}
	}
	for _, c := range []string{mirror, truth} {
		if c == "" {
			continue
		}
		h, ok, err := t.store.ConnectorHealth(ctx, c)
		if err != nil {
			t.log.Warn("read connector health; reconciling anyway", "connector", c, "err", err)
			return nil
		}
		if !ok || h.LastSuccess.IsZero() {
			return fmt.Errorf("reconcile %s: connector %s %w: nothing to compare yet", mirror, c, dvcwatch.ErrNeverSynced)
		}
	}
	return nil
}

// configChanged reports whether stopped health h was fingerprinted with a
// configuration other than this process's; PBKDF2 is slow, so each answer is
// remembered (the configuration does not change while a process runs).
func (t *Tracker) configChanged(h dvcwatch.ConnectorHealth) bool {
	k, ok := t.connectors[h.Connector]
	if !ok || h.Fingerprint == "" {
		return false
	}
	key := h.Connector + "\x00" + h.Fingerprint
	t.mu.Lock()
	match, known := t.matches[key]
	t.mu.Unlock()
	if !known {
		match = Matches(h.Fingerprint, k)
		t.mu.Lock()
		t.matches[key] = match
		t.mu.Unlock()
	}
	return !match
}

// Record keeps how a sync of connector ended (err nil: it succeeded) and, when
// the connector stops or recovers, puts the administrators' emails in the
// outbox in the same transaction. It logs its own failures: the sync's
// outcome stands whether or not it is recorded.
func (t *Tracker) Record(ctx context.Context, connector string, err error) {
	if Ignored(err) {
		return
	}
	// A context of its own: the pass's ends with its lease, and what the
	// pass came to must still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	o := Outcome{Err: err, At: t.clock.Now()}
	var fp string
	if errors.Is(err, connectors.ErrPermanent) {
		var ferr error
		if own, ok := t.own[connector]; !ok {
			ferr = fmt.Errorf("connector %s is not configured", connector)
		} else {
			fp, ferr = own()
		}
		if ferr != nil {
			t.log.Error("fingerprint connector configuration; the stop holds until a run by hand succeeds", "connector", connector, "err", ferr)
		}
	}
	// Another writer may come between the read and the write (a run by
	// hand on another replica): read and decide again.
	for range 3 {
		h, _, rerr := t.store.ConnectorHealth(ctx, connector)
		if rerr != nil {
			t.log.Error("record connector health", "connector", connector, "err", rerr)
			return
		}
		h.Connector = connector
		next, ev, changed := Next(h, o, fp)
		if !changed {
			return
		}
		emails := t.emails(h, next, ev, o.At)
		var ids []int64
		saved := false
		werr := t.store.InTx(ctx, func(tx Tx) error {
			ids = ids[:0]
			var err error
			if saved, err = tx.SaveConnectorHealth(ctx, next, o.At); err != nil || !saved {
				return err
			}
			for _, n := range emails {
				id, created, err := tx.AddNotification(ctx, n, o.At)
				if err != nil {
					return err
				}
				if created {
					ids = append(ids, id)
				}
			}
			return nil
		})
		switch {
		case werr != nil:
			t.log.Error("record connector health", "connector", connector, "err", werr)
			return
		case !saved:
			continue
		}
		t.logEvent(next, ev, len(ids))
		if t.send != nil && len(ids) > 0 {
			if err := t.send(ctx, ids); err != nil {
				t.log.Warn("enqueue the administrators' emails; the dispatcher will retry", "connector", connector, "err", err)
			}
		}
		return
	}
	t.log.Error("record connector health: the row kept changing under this writer", "connector", connector)
}

// emails are the administrators' emails an event calls for.
func (t *Tracker) emails(before, after dvcwatch.ConnectorHealth, ev Event, at time.Time) []dvcwatch.NewNotification {
	if ev == EventNone || len(t.admins) == 0 {
		return nil
	}
	n := notify.ConnectorNotice{Connector: after.Connector, Kind: t.connectors[after.Connector].Kind,
		Schedules: t.schedules[after.Connector], Since: after.Since, Cause: after.Cause, Error: after.LastError}
	if ev == EventRecovered {
		n.Recovered, n.Since, n.At, n.Cause, n.Error = true, before.Since, at, before.Cause, before.LastError
	}
	return notify.OperatorEmails(n, t.admins)
}

func (t *Tracker) logEvent(h dvcwatch.ConnectorHealth, ev Event, emails int) {
	switch ev {
	case EventStopped:
		t.log.Error("connector stopped after a permanent failure: its scheduled runs are skipped until its configuration changes or a run by hand succeeds",
			"connector", h.Connector, "cause", h.Cause, "err", h.LastError, "emails", emails)
	case EventRecovered:
		t.log.Info("connector recovered", "connector", h.Connector, "emails", emails)
	}
}

// Status is a connector's health as the admin API shows it.
type Status struct {
	dvcwatch.ConnectorHealth
	// ConfigChanged: the connector is stopped, and this replica's
	// configuration of it is not the one it stopped with; its next
	// scheduled run will try again.
	ConfigChanged bool
	// Schedules are the connector's sync schedules, which an operator runs
	// by hand.
	Schedules []string
}

// Connectors returns the health of every configured connector, by name; one
// that never synced is ok, with no time.
func (t *Tracker) Connectors(ctx context.Context) ([]Status, error) {
	rows, err := t.store.ConnectorHealths(ctx)
	if err != nil {
		return nil, err
	}
	stored := map[string]dvcwatch.ConnectorHealth{}
	for _, h := range rows {
		stored[h.Connector] = h
	}
	names := make([]string, 0, len(t.connectors))
	for name := range t.connectors {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]Status, 0, len(names))
	for _, name := range names {
		h, ok := stored[name]
		if !ok {
			h = dvcwatch.ConnectorHealth{Connector: name, State: dvcwatch.ConnectorOK}
		}
		s := Status{ConnectorHealth: h, Schedules: t.schedules[name]}
		s.ConfigChanged = h.State == dvcwatch.ConnectorStopped && t.configChanged(h)
		out = append(out, s)
	}
	return out, nil
}

// SMTP returns the mail server's state as the latest delivery attempts show
// it; see SMTP.
func (t *Tracker) SMTP(ctx context.Context) (dvcwatch.SMTPState, error) {
	attempts, lastSent, err := t.store.RecentDeliveryAttempts(ctx, SMTPWindow)
	if err != nil {
		return dvcwatch.SMTPState{}, err
	}
	return SMTP(attempts, lastSent), nil
}
