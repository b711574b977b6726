package dvcwatch

import "time"

// TallyLevel is what the results of a period are grouped by.
type TallyLevel string

// Levels of the results.
const (
	LevelAgency     TallyLevel = "agency"
	LevelDepartment TallyLevel = "department" // the department answering for the dossier (Verdict.Department)
	LevelOfficial   TallyLevel = "official"   // the official answering for the dossier (Verdict.Official)
	LevelProcedure  TallyLevel = "procedure"
)

// TallyLevels are the levels in the order reports show them.
var TallyLevels = []TallyLevel{LevelAgency, LevelDepartment, LevelOfficial, LevelProcedure}

// TallyQuery asks for the counts of the dossiers of a period [From, To),
// grouped by Level, for one agency ("" for all).
type TallyQuery struct {
	From, To time.Time
	Agency   string
	Level    TallyLevel
}

// Tally is what the store counts for one group of a period: the inputs of
// every indicator of package report, which holds the formulas.
type Tally struct {
	Group string // the agency, department, official or procedure code; "" when the dossiers name none

	Received    int // received in the period
	CarriedOver int // received before the period and not ended before it began
	// Finished in the period (not withdrawn), split by their Outcome.
	FinishedEarly, FinishedOnDue, FinishedLate int
	Withdrawn                                  int // withdrawn in the period
	// Open at the period's end: received before it and not ended by then;
	// within their due then, or already late.
	OpenWithinDue, OpenOverdue int

	// Of those received in the period:
	Online     int // submitted online (KenhThucHien = 2)
	Digitized  int // with digitised parts
	FeeDue     int // that owed a fee (waited for payment, or paid online)
	PaidOnline int // paid online
	Unsynced   int // with an open reconciliation finding: missing from the national portal or another status there

	// Processed or returned in the period: how many, and their working days
	// from reception to end less the time the clock stood still.
	Handled      int
	HandlingDays float64

	Apologies int // apology letters issued in the period

	// Steps with a due of their own finished in the period, and those of
	// them finished by it (steps are grouped by their own department and
	// official, not the dossier's).
	StepsFinished, StepsOnTime int

	// Breaches that began in the period, by kind, and how many of them
	// someone acknowledged.
	Breaches     map[BreachKind]int
	Acknowledged int
}

// Finished is how many dossiers (not withdrawn) ended in the period.
func (t Tally) Finished() int { return t.FinishedEarly + t.FinishedOnDue + t.FinishedLate }

// OpenAtEnd is how many dossiers were still open at the period's end.
func (t Tally) OpenAtEnd() int { return t.OpenWithinDue + t.OpenOverdue }

// Measure names a count of the results whose dossiers can be listed (the
// console's drill-down): the dossier counts of Tally, and the steps,
// apologies and breaches behind its other counts.
type Measure string

// Measures of the results.
const (
	MeasureReceived      Measure = "received"
	MeasureCarriedOver   Measure = "carried_over"
	MeasureFinishedEarly Measure = "finished_early"
	MeasureFinishedOnDue Measure = "finished_on_due"
	MeasureFinishedLate  Measure = "finished_late"
	MeasureWithdrawn     Measure = "withdrawn"
	MeasureOpenWithinDue Measure = "open_within_due"
	MeasureOpenOverdue   Measure = "open_overdue"
	MeasureOnline        Measure = "online"
	MeasureDigitized     Measure = "digitized"
	MeasureFeeDue        Measure = "fee_due"
	MeasurePaidOnline    Measure = "paid_online"
	MeasureUnsynced      Measure = "unsynced"
	MeasureHandled       Measure = "handled"
	MeasureStepsFinished Measure = "steps_finished" // dossiers with a step of the group finished in the period
	MeasureStepsLate     Measure = "steps_late"     // … finished after its step due
	MeasureApologies     Measure = "apologies"      // dossiers with an apology issued in the period
	MeasureBreaches      Measure = "breaches"       // dossiers with a breach of the group that began in the period
)

// Measures lists every measure, in the order of the results' columns.
var Measures = []Measure{MeasureReceived, MeasureCarriedOver, MeasureFinishedEarly, MeasureFinishedOnDue,
	MeasureFinishedLate, MeasureWithdrawn, MeasureOpenWithinDue, MeasureOpenOverdue, MeasureOnline, MeasureDigitized,
	MeasureFeeDue, MeasurePaidOnline, MeasureUnsynced, MeasureHandled, MeasureStepsFinished, MeasureStepsLate,
	MeasureApologies, MeasureBreaches}

// DrillQuery asks for the dossiers behind one number of the results: a
// measure of one group (Group "" is the dossiers no group names) of a level
// for a period and agency; Kind narrows MeasureBreaches to one kind.
type DrillQuery struct {
	TallyQuery
	Group   string
	Measure Measure
	Kind    BreachKind
	Limit   int // at most this many keys; the total is counted all the same
}
