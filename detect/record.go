package detect

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// Tx is the part of one store transaction that recording a page writes
// through.
type Tx interface {
	// BreachesOf returns every breach, resolved ones included, of the
	// dossiers keys, by fingerprint; whole says keys are every stored
	// dossier of their key range.
	BreachesOf(ctx context.Context, keys []dvcwatch.DossierKey, whole bool) (map[string]dvcwatch.StoredBreach, error)
	InsertBreaches(ctx context.Context, bs []dvcwatch.StoredBreach) ([]dvcwatch.StoredBreach, error)
	UpdateBreach(ctx context.Context, b dvcwatch.StoredBreach) error
	ResolveBreaches(ctx context.Context, ids []int64, at time.Time, reason dvcwatch.ResolvedReason) error
	// AlertHistory adds to each breach what each recipient was last told
	// and who acknowledged it.
	AlertHistory(ctx context.Context, bs []dvcwatch.StoredBreach) ([]dvcwatch.BreachState, error)
	InsertAlerts(ctx context.Context, intents []dvcwatch.AlertIntent, now time.Time) error
	// SaveVerdicts records the dossiers' verdicts, leaving unchanged ones
	// be; whole as for BreachesOf.
	SaveVerdicts(ctx context.Context, vs []dvcwatch.Verdict, whole bool) error
	// SaveNextChecks records the dossiers' next checks, leaving unchanged
	// ones be.
	SaveNextChecks(ctx context.Context, checks []dvcwatch.NextCheck) error
}

// Transactor opens the store's write transactions.
type Transactor interface {
	InTx(ctx context.Context, fn func(Tx) error) error
}

// TxOf makes a Transactor of a store's InTx whose transactions (T) have the
// methods of Tx, e.g. TxOf(db.InTx) for a *store.DB.
func TxOf[T Tx](inTx func(context.Context, func(T) error) error) Transactor {
	return transactorFunc(func(ctx context.Context, fn func(Tx) error) error {
		return inTx(ctx, func(tx T) error { return fn(tx) })
	})
}

type transactorFunc func(ctx context.Context, fn func(Tx) error) error

func (f transactorFunc) InTx(ctx context.Context, fn func(Tx) error) error { return f(ctx, fn) }

// Page is one page of a detection pass to record.
type Page struct {
	Now      time.Time
	Dossiers []dvcwatch.Evaluation
	// Verdicts are the dossiers' verdicts, recorded with their breaches.
	Verdicts []dvcwatch.Verdict
	// Whole says Dossiers are every stored dossier of their key range (a
	// page of a full sweep, dvcwatch.ScannedPage.Whole): their breaches are
	// then read as one range.
	Whole bool
	// Upgrade says the page is judged by rules of a new version: breaches no
	// longer reported are resolved as dvcwatch.ResolvedRuleChanged, and the
	// breaches a finished dossier gets only from the new rules are history,
	// told to nobody.
	Upgrade bool
	// Plan decides who must be told what about the dossiers' unresolved
	// breaches: every one of an open dossier, and those of a finished
	// dossier that are new, changed or reopened; nil plans nothing.
	Plan func(now time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent
	// Replan says when Plan could next decide something about a breach it
	// was given, the breach unchanged (Notifier.Replan); nil: never.
	Replan func(now time.Time, st dvcwatch.BreachState) time.Time
	// Checks are the next checks of the page's dossiers as the rules found
	// them, recorded with the breaches, each brought forward to the
	// earliest Replan of its dossier's planned breaches.
	Checks []dvcwatch.NextCheck
	// Silences are the silences active at Now: the breaches they match are
	// recorded as any other, and not given to Plan, so that nobody is told
	// of them; once a silence has ended, the next page planned tells their
	// recipients as of then.
	Silences []dvcwatch.Silence
}

// RecordPage records one page of evaluations in one transaction: what
// lifecycle decides about the dossiers' breaches, then the alerts p.Plan
// decides about those p.Silences do not mute, so that a breach is never
// recorded without the alerts it causes, nor an alert without its breach.
// Recording the same page twice changes nothing the second time (Plan sees
// what the first one told).
func RecordPage(ctx context.Context, st Transactor, p Page) (PageResult, error) {
	keys := make([]dvcwatch.DossierKey, len(p.Dossiers))
	for i, ev := range p.Dossiers {
		keys[i] = ev.Key
	}
	var res PageResult
	err := st.InTx(ctx, func(tx Tx) error {
		if err := tx.SaveVerdicts(ctx, p.Verdicts, p.Whole); err != nil {
			return err
		}
		stored, err := tx.BreachesOf(ctx, keys, p.Whole)
		if err != nil {
			return err
		}
		ch := lifecycle(p.Now, p.Dossiers, stored, p.Upgrade)
		res = ch.result
		for _, b := range ch.update {
			if err := tx.UpdateBreach(ctx, b); err != nil {
				return err
			}
		}
		for reason, ids := range ch.resolve {
			if err := tx.ResolveBreaches(ctx, ids, p.Now, reason); err != nil {
				return err
			}
		}
		inserted, err := tx.InsertBreaches(ctx, ch.insert)
		if err != nil {
			return err
		}
		if p.Upgrade {
			inserted = slices.DeleteFunc(inserted, func(b dvcwatch.StoredBreach) bool { return !b.Actionable })
		}
		plan, muted := unsilenced(p.Now, p.Silences, ch.plan)
		inserted, mutedNew := unsilenced(p.Now, p.Silences, inserted)
		res.Silenced = muted + mutedNew
		if p.Plan == nil || len(plan)+len(inserted) == 0 {
			return tx.SaveNextChecks(ctx, p.Checks)
		}
		states, err := tx.AlertHistory(ctx, plan)
		if err != nil {
			return err
		}
		for _, b := range inserted { // told nothing yet, acknowledged by nobody
			states = append(states, dvcwatch.BreachState{StoredBreach: b, Told: map[string]dvcwatch.Told{},
				Acks: map[string]dvcwatch.Severity{}})
		}
		intents := p.Plan(p.Now, states)
		res.Alerts = len(intents)
		if err := tx.InsertAlerts(ctx, intents, p.Now); err != nil {
			return err
		}
		replan(p, states)
		return tx.SaveNextChecks(ctx, p.Checks)
	})
	if err != nil {
		return PageResult{}, fmt.Errorf("record breaches: %w", err)
	}
	return res, nil
}

// replan brings each dossier's next check in p.Checks forward to when the
// notifier could next decide something about one of its planned breaches
// (states), so that a repeat or an escalation rule's threshold finds the
// dossier evaluated and its breaches planned then.
func replan(p Page, states []dvcwatch.BreachState) {
	if p.Replan == nil {
		return
	}
	index := make(map[dvcwatch.DossierKey]int, len(p.Checks))
	for i, c := range p.Checks {
		index[c.Key] = i
	}
	for _, st := range states {
		i, ok := index[st.Key]
		t := p.Replan(p.Now, st)
		if !ok || t.IsZero() {
			continue
		}
		if c := &p.Checks[i]; c.At.IsZero() || t.Before(c.At) {
			c.At = t
		}
	}
}
