package dvcwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
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

// kindText is what an official reads of a kind: its name, the one thing to
// do about it, and the rule it follows, in one line each.
type kindText struct{ label, action, basis string }

const (
	decree118  = "Nghị định 118/2025/NĐ-CP"
	apologyLaw = "Điều 19 khoản 6 " + decree118 + " (văn bản xin lỗi, hẹn lại không quá một lần)"
)

var kindTexts = map[BreachKind]kindText{
	BreachDueSoon: {"Sắp đến hạn",
		"Hoàn thành trước hạn; nếu không kịp, phát hành văn bản xin lỗi và hẹn lại ngày trả kết quả chậm nhất 01 ngày làm việc trước hạn.",
		apologyLaw},
	BreachOverdue: {"Quá hạn",
		"Giải quyết ngay, phát hành văn bản xin lỗi và hẹn lại ngày trả kết quả (nếu chưa có), cập nhật tiến độ trên hệ thống một cửa.",
		apologyLaw},
	BreachFinishedLate: {"Giải quyết trễ hạn",
		"Báo cáo nguyên nhân chậm với lãnh đạo phòng và Văn phòng HĐND và UBND.",
		"Ngày hẹn trả ghi trên phiếu tiếp nhận; " + decree118},
	BreachNoApology: {"Trễ hạn chưa có văn bản xin lỗi",
		"Phát hành văn bản xin lỗi và hẹn lại ngày trả kết quả, gửi Bộ phận Một cửa và người nộp.",
		apologyLaw},
	BreachLateApology: {"Văn bản xin lỗi phát hành muộn",
		"Lần sau phát hành văn bản xin lỗi chậm nhất 01 ngày làm việc trước hạn.",
		apologyLaw},
	BreachNewDateMissed: {"Trễ cả ngày hẹn lại",
		"Giải quyết ngay và báo cáo lãnh đạo: ngày hẹn lại chỉ được đặt một lần.",
		apologyLaw},
	BreachRescheduledTwice: {"Hẹn lại nhiều lần",
		"Báo cáo lãnh đạo: ngày trả kết quả chỉ được hẹn lại một lần.",
		apologyLaw},
	BreachSupplementedTwice: {"Yêu cầu bổ sung nhiều lần",
		"Yêu cầu bổ sung một lần, đầy đủ; hồ sơ bị tính là trễ hạn trong Bộ chỉ số phục vụ.",
		"Quyết định 766/QĐ-TTg; Điều 19 khoản 5 " + decree118},
	BreachLateSupplementRequest: {"Yêu cầu bổ sung muộn",
		"Thông báo yêu cầu bổ sung trong 03 ngày làm việc kể từ ngày tiếp nhận.",
		"Điều 19 khoản 5 " + decree118},
	BreachStepOverdue: {"Bước xử lý quá hạn",
		"Hoàn thành bước của mình và chuyển bước tiếp theo trên hệ thống một cửa.",
		"Thời hạn của bước (NgayKetThucTheoQuyDinh) trong quy trình liên thông"},
	BreachDueBeyondLimit: {"Ngày hẹn trả vượt thời hạn luật định",
		"Kiểm tra lại ngày hẹn trả trên phiếu tiếp nhận theo đúng thời hạn của thủ tục.",
		"Thời hạn giải quyết của thủ tục; Bộ luật Dân sự 2015 điều 147–148"},
	BreachRefusedLate: {"Từ chối, dừng xử lý sau hạn",
		"Lần sau thông báo từ chối trong thời hạn giải quyết, nêu rõ lý do.",
		"Điều 19 khoản 3 " + decree118},
	BreachNotReceived: {"Nộp trực tuyến chưa được tiếp nhận",
		"Tiếp nhận hoặc từ chối hồ sơ trực tuyến, nêu rõ lý do.",
		"Điều 17 khoản 2 " + decree118 + " (không muộn hơn 08 giờ làm việc)"},
	BreachNotSynced: {"Chưa đồng bộ lên Cổng DVCQG",
		"Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia.",
		"Bộ chỉ số phục vụ (Quyết định 766/QĐ-TTg): tỷ lệ đồng bộ"},
	BreachPortalMismatch: {"Trạng thái trên Cổng DVCQG không khớp",
		"Cập nhật trạng thái hồ sơ trên Cổng Dịch vụ công quốc gia.",
		"Bộ chỉ số phục vụ (Quyết định 766/QĐ-TTg): tỷ lệ đồng bộ"},
}

// Vietnamese returns the kind's label as officials read it, e.g. "Quá hạn";
// an unknown kind is returned as it is.
func (k BreachKind) Vietnamese() string {
	if t, ok := kindTexts[k]; ok {
		return t.label
	}
	return string(k)
}

// Action returns, in Vietnamese, the one thing an official should do about a
// breach of kind k; "" for an unknown kind.
func (k BreachKind) Action() string { return kindTexts[k].action }

// Basis returns, in one line, the rule or legal text the kind follows; "" for
// an unknown kind.
func (k BreachKind) Basis() string { return kindTexts[k].basis }

// Urgency orders kinds for an official: what needs doing today first
// (overdue, a missed new date, a missing apology), history last; a lower
// number is more urgent, an unknown kind is last.
func (k BreachKind) Urgency() int {
	if i := slices.Index(urgencyOrder, k); i >= 0 {
		return i
	}
	return len(urgencyOrder)
}

var urgencyOrder = []BreachKind{
	BreachOverdue, BreachNewDateMissed, BreachNoApology, BreachStepOverdue, BreachNotReceived, BreachDueSoon,
	BreachLateSupplementRequest, BreachDueBeyondLimit, BreachNotSynced, BreachPortalMismatch, BreachLateApology,
	BreachRescheduledTwice, BreachSupplementedTwice, BreachFinishedLate, BreachRefusedLate,
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
