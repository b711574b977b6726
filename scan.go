package dvcwatch

import "time"

// ScanFilter selects the dossiers a detection pass evaluates.
type ScanFilter struct {
	// All selects every dossier (a full sweep). Otherwise a dossier is selected
	// when it was written after ChangedAfter, is still open (time alone can
	// move it across a threshold), has an unresolved breach (which may have
	// ended) or an open reconciliation finding.
	All          bool
	ChangedAfter time.Time
	// Mirror names the connector whose reconciliation findings against a
	// dossier's source are reported with it; empty reports none. The
	// mirror's own dossiers are not scanned: they are copies of the source
	// of truth's, judged once, through those findings.
	Mirror string
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
}

// DetectorState is where the detector's next incremental pass starts.
type DetectorState struct {
	LastRunAt  time.Time // start of the last completed pass
	LastFullAt time.Time // start of the last completed full sweep; zero if none
	// RulesVersion is the version of the rules the last full sweep judged
	// by; another version forces a full sweep that resolves what the new
	// rules no longer report as rule_changed.
	RulesVersion int
}
