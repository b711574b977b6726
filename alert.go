package dvcwatch

import (
	"errors"
	"time"
)

// ErrNotFound is wrapped by the errors of readers that find nothing for a key.
var ErrNotFound = errors.New("not found")

// StoredBreach is a breach as recorded, with its bookkeeping.
type StoredBreach struct {
	ID int64
	Breach
	Agency     string
	Procedure  string // the dossier's procedure code (MaTTHC), so that a silence matches by it without a join
	Actionable bool   // the dossier was open when last evaluated
	DetectedAt time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time // zero while open
	// ResolvedReason says why a resolved breach ended: its condition ended,
	// or the rules changed and no longer report it.
	ResolvedReason ResolvedReason
}

// ResolvedReason says why a breach was resolved.
type ResolvedReason string

// Reasons a breach was resolved.
const (
	ResolvedEnded       ResolvedReason = "ended"        // the rules no longer find its condition
	ResolvedRuleChanged ResolvedReason = "rule_changed" // an upgrade of the rules no longer reports it; nobody is told
)

// Told is the latest alert a recipient was given about a breach.
type Told struct {
	Severity Severity
	At       time.Time
}

// BreachState is an unresolved breach with what each recipient has been told
// about it and who acknowledged it at which severity: what deciding who to
// tell next needs.
type BreachState struct {
	StoredBreach
	Told map[string]Told     // by recipient
	Acks map[string]Severity // by official
}

// AlertReason says why a recipient is told of a breach.
type AlertReason string

// Alert reasons.
const (
	AlertNew       AlertReason = "new"       // the recipient had not been told of this breach
	AlertEscalated AlertReason = "escalated" // its severity changed since the recipient was told
	AlertRepeat    AlertReason = "repeat"    // still unresolved after the repeat interval
)

// AlertIntent asks for Recipient to be told of a breach; it is recorded in the
// transaction that recorded the breach, and becomes part of a digest email
// when notifications are next composed.
type AlertIntent struct {
	BreachID  int64
	Recipient string
	Role      Role
	Severity  Severity
	Reason    AlertReason
}

// Evaluation is one dossier's evaluation: every breach the rules report for it
// now. A stored breach of the dossier not among them has ended.
type Evaluation struct {
	Key       DossierKey
	Agency    string
	Procedure string // the dossier's procedure code (MaTTHC), recorded with its breaches
	Open      bool   // still owed a result: its breaches are actionable
	Breaches  []Breach
}

// BreachDetail is a breach with what an email needs to say about its dossier.
// ApplicantName and ApplicantPhone are personal data: mask them before they
// leave the process.
type BreachDetail struct {
	StoredBreach
	ProcedureName  string
	ApplicantName  string
	ApplicantPhone string
}

// PendingAlert is an alert not yet put into an email.
type PendingAlert struct {
	ID        int64
	Recipient string
	Role      Role
	Severity  Severity
	Reason    AlertReason
	CreatedAt time.Time
	Breach    BreachDetail
}
