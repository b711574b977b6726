package dvcwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// BreachKind names a rule a dossier or one of its steps has broken (or is about to).
type BreachKind string

// The breach kinds; the strings are stable identifiers stored with each breach.
const (
	BreachDueSoon               BreachKind = "due_soon"                // open, little working time left before the due
	BreachOverdue               BreachKind = "overdue"                 // open, past the appointment given to the citizen
	BreachFinishedLate          BreachKind = "finished_late"           // processing ended after the appointment
	BreachNoApology             BreachKind = "no_apology"              // late with no apology letter
	BreachLateApology           BreachKind = "late_apology"            // apology issued after the last working day before the due
	BreachNewDateMissed         BreachKind = "new_date_missed"         // late, apologised, and the apology's new date missed too
	BreachRescheduledTwice      BreachKind = "rescheduled_twice"       // more than one apology / new appointment
	BreachSupplementedTwice     BreachKind = "supplemented_twice"      // more than one supplement request (late under Decision 766/QĐ-TTg)
	BreachLateSupplementRequest BreachKind = "late_supplement_request" // supplement requested later than allowed after reception
	BreachStepOverdue           BreachKind = "step_overdue"            // a step past its own due (NgayKetThucTheoQuyDinh)
	BreachDueBeyondLimit        BreachKind = "due_beyond_limit"        // the receipt's NgayHenTra is later than the legal limit allows
	BreachRefusedLate           BreachKind = "refused_late"            // refused or stopped after the due
	BreachNotReceived           BreachKind = "not_received"            // an online submission still unreceived after the time allowed
	BreachNotSynced             BreachKind = "not_synced"              // missing from the national portal beyond the lag allowed
	BreachPortalMismatch        BreachKind = "portal_mismatch"         // the national portal shows another status beyond the lag allowed
)

var breachKinds = []BreachKind{
	BreachDueSoon, BreachOverdue, BreachFinishedLate, BreachNoApology, BreachLateApology, BreachNewDateMissed,
	BreachRescheduledTwice, BreachSupplementedTwice, BreachLateSupplementRequest, BreachStepOverdue,
	BreachDueBeyondLimit, BreachRefusedLate, BreachNotReceived, BreachNotSynced, BreachPortalMismatch,
}

// BreachKinds returns every breach kind, in a fixed order.
func BreachKinds() []BreachKind { return append([]BreachKind(nil), breachKinds...) }

var breachLabels = map[BreachKind]string{
	BreachDueSoon:               "Sắp đến hạn",
	BreachOverdue:               "Quá hạn",
	BreachFinishedLate:          "Giải quyết trễ hạn",
	BreachNoApology:             "Trễ hạn chưa có văn bản xin lỗi",
	BreachLateApology:           "Văn bản xin lỗi phát hành muộn",
	BreachNewDateMissed:         "Trễ cả ngày hẹn lại",
	BreachRescheduledTwice:      "Hẹn lại nhiều lần",
	BreachSupplementedTwice:     "Yêu cầu bổ sung nhiều lần",
	BreachLateSupplementRequest: "Yêu cầu bổ sung muộn",
	BreachStepOverdue:           "Bước xử lý quá hạn",
	BreachDueBeyondLimit:        "Ngày hẹn trả vượt thời hạn luật định",
	BreachRefusedLate:           "Từ chối, dừng xử lý sau hạn",
	BreachNotReceived:           "Nộp trực tuyến chưa được tiếp nhận",
	BreachNotSynced:             "Chưa đồng bộ lên Cổng DVCQG",
	BreachPortalMismatch:        "Trạng thái trên Cổng DVCQG không khớp",
}

// Vietnamese returns the kind's label as officials read it, e.g. "Quá hạn";
// an unknown kind is returned as it is.
func (k BreachKind) Vietnamese() string {
	if l, ok := breachLabels[k]; ok {
		return l
	}
	return string(k)
}

// Valid reports whether k is one of the known kinds.
func (k BreachKind) Valid() bool {
	for _, x := range breachKinds {
		if k == x {
			return true
		}
	}
	return false
}

// Severity grades a breach; configuration refers to these exact strings.
type Severity string

// Severities, from least to most severe.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: 1 info, 2 warning, 3 critical, 0 for an unknown string.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityCritical:
		return 3
	}
	return 0
}

// Valid reports whether s is one of the three severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

var severityLabels = map[Severity]string{
	SeverityInfo: "Thông tin", SeverityWarning: "Cảnh báo", SeverityCritical: "Nghiêm trọng",
}

// Vietnamese returns the severity as officials read it, e.g. "Nghiêm trọng";
// an unknown severity is returned as it is.
func (s Severity) Vietnamese() string {
	if l, ok := severityLabels[s]; ok {
		return l
	}
	return string(s)
}

// Breach is one broken (or nearly broken) deadline rule of a dossier or one of its
// steps. It carries no personal data of the applicant.
type Breach struct {
	Kind       BreachKind
	Key        DossierKey
	StepSeq    int    // the step's Seq for step_overdue; 0 for the whole dossier
	Official   string // who answers for it: the step's official, or the current step's
	Department string
	Severity   Severity
	StartedAt  time.Time // when the condition began, e.g. the due instant
	DueAt      time.Time // the due the rule was measured against
	// Fingerprint identifies the breach across runs: it depends on the kind, the
	// dossier key and the step only, so a breach is recorded once however its
	// severity or the evaluation time change.
	Fingerprint string
	Detail      string // short Vietnamese/English text, no personal data
}

// BreachFingerprint returns the stable identity of a breach: the hex SHA-256 of its
// kind, dossier source and code and step sequence, each length-prefixed so that no
// two different inputs share an encoding.
func BreachFingerprint(kind BreachKind, key DossierKey, stepSeq int) string {
	h := sha256.New()
	for _, s := range []string{string(kind), key.Source, key.Code, strconv.Itoa(stepSeq)} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
