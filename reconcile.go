package dvcwatch

import "time"

// FindingKind says how the national portal's copy of a dossier differs from
// the source of truth's.
type FindingKind string

// Reconciliation finding kinds.
const (
	FindingMissing        FindingKind = "missing"         // the mirror never received the dossier
	FindingStatusMismatch FindingKind = "status_mismatch" // the mirror shows another status
)

// Finding is one open reconciliation difference.
type Finding struct {
	Code         string
	Kind         FindingKind
	TruthStatus  int
	MirrorStatus int // 0 when missing
	DetectedAt   time.Time
}

// ReconcileResult counts one reconciliation. SyncRate inputs: Received dossiers
// of the source of truth (status 2 and later), of which Missing never reached
// the mirror in time.
type ReconcileResult struct {
	Received   int // dossiers the source of truth has received
	Missing    int // open findings of kind missing
	Mismatched int // open findings of kind status_mismatch
	Resolved   int // findings closed by this run
}

// SyncRate is the share of received dossiers that reached the mirror, the
// national "sync rate" index (1 when nothing was received).
func (r ReconcileResult) SyncRate() float64 {
	if r.Received == 0 {
		return 1
	}
	return float64(r.Received-r.Missing) / float64(r.Received)
}
