package dvcwatch

import "time"

// Verdict is how one dossier stands against its due, as the deadline rules
// judged it at the last detection pass: the facts the monthly results
// (package report) count. Detection writes it beside the dossier's breaches,
// so that a month's results are sums over stored rows rather than a
// re-evaluation of every dossier.
//
// A verdict holds no time of judgement: whether an open dossier was still
// within its due at the end of a month is read from LateFrom then.
type Verdict struct {
	Key           DossierKey
	Agency        string
	ProcedureCode string
	// Department and Official answer for the dossier in the results: the
	// department whose finished steps held it longest, and its official of
	// the longest such step; with none finished, the step in progress; ""
	// when it has no steps.
	Department string
	Official   string
	Status     Status
	Channel    Channel
	// ReceivedAt is the reception (NgayTiepNhan); zero for a dossier never
	// received (an online submission waiting, or one withdrawn before).
	ReceivedAt time.Time
	// Due is the due the dossier is judged against (the appointment, the
	// supplement round's new one, or the computed legal due standing in);
	// zero when there is none.
	Due time.Time
	// LateFrom is the first instant at which the dossier is late: the day
	// after Due's date (compared by date), or Due itself for an agency
	// judged to the minute; ReceivedAt for a dossier late whatever its
	// dates (more than one supplement request). Zero when there is no due.
	LateFrom time.Time
	// EndedAt is the end of processing (processed, else returned, else
	// refused, stopped or withdrawn); zero while the dossier is open.
	EndedAt time.Time
	// WaitingSince is when the clock of an open dossier stopped while it
	// waits for the citizen (documents or payment) before it was late;
	// zero otherwise. Such a dossier is not late while it waits.
	WaitingSince time.Time
	// Outcome is how a finished dossier ended against its due; "" while
	// open, and for a dossier not judged (withdrawn, never received).
	Outcome Outcome
	// Supplements counts the supplement requests.
	Supplements int
	// HandlingDays is the working time from reception to the end of
	// processing less the time the clock stood still, in working days;
	// finished dossiers (processed or returned) only, else zero.
	HandlingDays float64
	Digitized    bool // HoSoCoThanhPhanSoHoa
	PaidOnline   bool // DuocThanhToanTrucTuyen
	// FeeDue says the data shows a fee was owed: the dossier waited for
	// payment (status 6) or was paid online.
	FeeDue bool
	Steps  []StepVerdict
}

// Outcome is how a finished dossier ended against its due, the split of
// the national statistics (trước hạn, đúng hạn, quá hạn).
type Outcome string

// Outcomes of a finished dossier.
const (
	OutcomeEarly Outcome = "early"  // finished on a date before its due's
	OutcomeOnDue Outcome = "on_due" // finished on its due's date (or by the minute, not late)
	OutcomeLate  Outcome = "late"   // finished late, or more than one supplement request
)

// StepVerdict is one step of a dossier with its own due (a step without
// one is not judged and has no verdict).
type StepVerdict struct {
	Seq        int
	Department string
	Official   string
	Due        time.Time
	LateFrom   time.Time // as Verdict.LateFrom, for the step's due
	EndedAt    time.Time // zero while the step is in progress
}
