package dvcwatch

import "time"

// ScanFilter selects the dossiers a detection pass evaluates.
type ScanFilter struct {
	// All selects every dossier (a full sweep), in key order. Otherwise the
	// dossiers whose next check (NextCheck) is at or before Due are
	// selected, in the order of their next checks: those time has carried
	// across a threshold, and those written since the last pass (a write
	// brings the next check forward).
	All bool
	Due time.Time
	// Mirror names the connector whose reconciliation findings against a
	// dossier's source are reported with it; empty reports none. The
	// mirror's own dossiers are not scanned: they are copies of the source
	// of truth's, judged once, through those findings.
	Mirror string
}

// NextCheck is when a dossier must next be evaluated: the earliest instant
// at which time alone could change its breaches or whom the notifier tells
// of them; zero means never (until it is written again). A write to the
// dossier or to its reconciliation findings brings it forward to the next
// pass.
type NextCheck struct {
	Key DossierKey
	At  time.Time
	// Stored is the next check the pass read with the dossier, so that an
	// unchanged one is not written again; Written is when the dossier was
	// last written as the pass read it, so that a next check computed from
	// an older state does not replace the mark of a newer write.
	Stored, Written time.Time
}

// ScannedPage is one page of a scan: dossiers with their steps, supplements and
// apologies, and the open reconciliation findings of those dossiers.
type ScannedPage struct {
	Dossiers []Dossier
	Findings map[DossierKey][]Finding
	// Whole says Dossiers are every stored dossier between the first key and
	// the last (a page of a full scan), so that their rows in other tables
	// are one range of keys.
	Whole bool
	// Checks are the dossiers' stored next checks (Stored, Written), in
	// the order of Dossiers, for the pass to fill in At.
	Checks []NextCheck
}

// DetectorState is where the detector's next incremental pass starts.
type DetectorState struct {
	LastRunAt  time.Time // start of the last completed pass
	LastFullAt time.Time // start of the last completed full sweep; zero if none
	// RulesVersion is the version of the rules the last full sweep judged
	// by; another version forces a full sweep that resolves what the new
	// rules no longer report as rule_changed.
	RulesVersion int
	// LastNow is the evaluation time of the last completed pass (the
	// business clock's, where LastRunAt is the wall clock's).
	LastNow time.Time
	// Config fingerprints the configuration the stored next checks were
	// computed by (limits, calendar, thresholds, escalation, repeats):
	// another one forces a full sweep.
	Config string
}
