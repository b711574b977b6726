// Package dvcwatch holds the domain model shared by every part of dvcwatch:
// administrative dossiers (hồ sơ thủ tục hành chính) as the portals report them,
// their processing steps, supplement rounds, apology letters and status history,
// and the people who answer for them; and the vocabulary of what dvcwatch
// makes of them: breaches, alerts, notifications, job runs and findings.
package dvcwatch

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Status is the national portal's dossier status code (TrangThaiHoSo, 1–10).
type Status int

// The ten national status codes.
const (
	StatusSubmitted          Status = 1  // Mới đăng ký: submitted online, not yet received
	StatusReceived           Status = 2  // Được tiếp nhận
	StatusRefused            Status = 3  // Không được tiếp nhận
	StatusInProgress         Status = 4  // Đang xử lý
	StatusAwaitingSupplement Status = 5  // Yêu cầu bổ sung giấy tờ
	StatusAwaitingPayment    Status = 6  // Yêu cầu thực hiện nghĩa vụ tài chính
	StatusWithdrawn          Status = 7  // Công dân yêu cầu rút hồ sơ
	StatusStopped            Status = 8  // Dừng xử lý
	StatusProcessed          Status = 9  // Đã xử lý xong
	StatusReturned           Status = 10 // Đã trả kết quả
)

// Clock says what a status does to the legal deadline clock.
type Clock string

// Clock states, from domain rules: the clock starts at reception, pauses while the
// dossier waits for the citizen, stops when the result is ready, and ends for good
// when the dossier leaves the process.
const (
	ClockNotStarted Clock = "not_started"
	ClockRunning    Clock = "running"
	ClockPaused     Clock = "paused"
	ClockStopped    Clock = "stopped"
	ClockTerminal   Clock = "terminal"
)

var statusInfo = map[Status]struct {
	name, vietnamese string
	clock            Clock
}{
	StatusSubmitted:          {"submitted", "Mới đăng ký", ClockNotStarted},
	StatusReceived:           {"received", "Được tiếp nhận", ClockRunning},
	StatusRefused:            {"refused", "Không được tiếp nhận", ClockTerminal},
	StatusInProgress:         {"in_progress", "Đang xử lý", ClockRunning},
	StatusAwaitingSupplement: {"awaiting_supplement", "Yêu cầu bổ sung giấy tờ", ClockPaused},
	StatusAwaitingPayment:    {"awaiting_payment", "Yêu cầu thực hiện nghĩa vụ tài chính", ClockPaused},
	StatusWithdrawn:          {"withdrawn", "Công dân yêu cầu rút hồ sơ", ClockTerminal},
	StatusStopped:            {"stopped", "Dừng xử lý", ClockTerminal},
	StatusProcessed:          {"processed", "Đã xử lý xong", ClockStopped},
	StatusReturned:           {"returned", "Đã trả kết quả", ClockTerminal},
}

// Valid reports whether s is one of the ten national codes.
func (s Status) Valid() bool { _, ok := statusInfo[s]; return ok }

// Clock reports what s does to the deadline clock.
func (s Status) Clock() Clock {
	if i, ok := statusInfo[s]; ok {
		return i.clock
	}
	return ""
}

// Vietnamese returns the status name officials see on the portal.
func (s Status) Vietnamese() string {
	if i, ok := statusInfo[s]; ok {
		return i.vietnamese
	}
	return fmt.Sprintf("Trạng thái %d", int(s))
}

// String returns a stable English identifier, e.g. "in_progress".
func (s Status) String() string {
	if i, ok := statusInfo[s]; ok {
		return i.name
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Open reports whether the dossier is still owed a result (the clock has not
// stopped and the dossier has not left the process).
func (s Status) Open() bool {
	c := s.Clock()
	return c == ClockNotStarted || c == ClockRunning || c == ClockPaused
}

// Channel is how the dossier was submitted (KenhThucHien).
type Channel int

// Submission channels.
const (
	ChannelInPerson Channel = 1
	ChannelOnline   Channel = 2
	ChannelPostal   Channel = 3
)

// Vietnamese names the channel as the portals do; "" for one not reported.
func (c Channel) Vietnamese() string {
	switch c {
	case ChannelInPerson:
		return "Trực tiếp"
	case ChannelOnline:
		return "Trực tuyến"
	case ChannelPostal:
		return "Qua bưu chính"
	case 0:
		return ""
	}
	return fmt.Sprintf("Kênh %d", int(c))
}

// ApplicantKind is the kind of applicant (LoaiDoiTuong).
type ApplicantKind int

// Applicant kinds.
const (
	ApplicantCitizen  ApplicantKind = 1
	ApplicantBusiness ApplicantKind = 2
)

// Vietnamese names the kind of applicant; "" for one not reported.
func (k ApplicantKind) Vietnamese() string {
	switch k {
	case ApplicantCitizen:
		return "Công dân"
	case ApplicantBusiness:
		return "Doanh nghiệp, tổ chức"
	case 0:
		return ""
	}
	return fmt.Sprintf("Đối tượng %d", int(k))
}

// DossierKey identifies a dossier: the same MaHoSo may exist in two source systems
// (the provincial one-stop system and the national portal) with different contents.
type DossierKey struct {
	Source string // connector name the dossier came from
	Code   string // MaHoSo
}

// String renders the key as "source/code".
func (k DossierKey) String() string { return k.Source + "/" + k.Code }

// Applicant is the citizen's or business's personal data. It must never be logged;
// emails show it only masked.
type Applicant struct {
	Name     string // ChuHoSo
	Email    string
	Phone    string // SoDienThoai
	IDNumber string // SoGiayToChuHoSo
}

// Dossier is one administrative dossier as last reported by its source system,
// normalized from the portal fields. Zero times mean "not reported".
type Dossier struct {
	Key           DossierKey
	ReceiptNo     string // SoBienNhan
	ProcedureCode string // MaTTHC
	ProcedureName string // TenTTHC
	FieldCode     string // MaLinhVuc
	FieldName     string // TenLinhVuc
	Agency        string // DonViXuLy: code of the handling agency
	Channel       Channel
	ApplicantKind ApplicantKind
	Applicant     Applicant

	SubmittedAt time.Time // NgayNopHoSo
	ReceivedAt  time.Time // NgayTiepNhan: the clock starts here
	DueAt       time.Time // NgayHenTra: the promise written on the receipt
	ProcessedAt time.Time // NgayKetThucXuLy
	ReturnedAt  time.Time // NgayTra
	RefusedAt   time.Time // NgayTuChoi

	Status    Status
	RawStatus string // the source system's own status, kept verbatim

	PaidOnline        bool // DuocThanhToanTrucTuyen
	HasDigitizedParts bool // HoSoCoThanhPhanSoHoa

	Steps       []Step
	Supplements []Supplement
	Apologies   []Apology
	// PaymentWaits are the times the dossier spent waiting for the citizen's
	// payment (status 6), read from its status history by the store: the
	// portals report no such dates. Not part of what the source reported.
	PaymentWaits []Wait

	// SourceUpdatedAt is when the source system last changed the dossier; a
	// snapshot older than the stored one never overwrites it.
	SourceUpdatedAt time.Time
}

// Step is one processing step of a dossier, owned by a department and an official;
// in an interconnected (liên thông) workflow each step has its own due date.
type Step struct {
	Seq           int
	Department    string // PhongBanXuLy
	Official      string // NguoiXuLy
	OfficialTitle string // ChucDanh
	Content       string // NoiDungXuLy
	State         string // TrangThai, as the source reports it
	StartedAt     time.Time
	DueAt         time.Time // NgayKetThucTheoQuyDinh
	FinishedAt    time.Time
}

// Supplement is one round of "please supplement your documents"; the deadline
// clock is paused from RequestedAt until ReturnedAt.
type Supplement struct {
	Seq         int
	RequestedAt time.Time // NgayBoSung
	ReturnedAt  time.Time // NgayTiepNhanBoSung
	DueBefore   time.Time // NgayHenTraTruoc
	DueAfter    time.Time // NgayHenTraMoi
}

// Apology is a letter of apology with a new appointment (form 04, Circular
// 01/2018/TT-VPCP); the law allows one per dossier.
type Apology struct {
	Seq      int
	IssuedAt time.Time
	NewDueAt time.Time
	IssuedBy string
	Reason   string
}

// Wait is a span during which the deadline clock stood still; End is zero
// while it lasts.
type Wait struct {
	Start, End time.Time
}

// NFC returns d with every string field, its steps' and apologies' included,
// in Unicode normalization form C. Portals send Vietnamese both precomposed
// and decomposed (combining marks): the two look identical but compare, match
// and hash differently, so text is put in one form before it is stored or
// matched. d's own child slices are never modified: one is copied only when
// one of its strings changes.
func (d Dossier) NFC() Dossier {
	for _, s := range [...]*string{
		&d.Key.Source, &d.Key.Code, &d.ReceiptNo, &d.ProcedureCode, &d.ProcedureName, &d.FieldCode,
		&d.FieldName, &d.Agency, &d.Applicant.Name, &d.Applicant.Email, &d.Applicant.Phone,
		&d.Applicant.IDNumber, &d.RawStatus,
	} {
		*s = toNFC(*s)
	}
	d.Steps = nfcEach(d.Steps, func(s *Step) []*string {
		return []*string{&s.Department, &s.Official, &s.OfficialTitle, &s.Content, &s.State}
	})
	d.Apologies = nfcEach(d.Apologies, func(a *Apology) []*string { return []*string{&a.IssuedBy, &a.Reason} })
	return d // Supplement has no text
}

// toNFC returns s in NFC; already normalized text (nearly all of it) is
// returned as is, without a copy.
func toNFC(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// nfcEach returns items with the strings that fields points at in NFC,
// copying the slice only when one of them changes.
func nfcEach[T any](items []T, fields func(*T) []*string) []T {
	for i := range items {
		for _, s := range fields(&items[i]) {
			if norm.NFC.IsNormalString(*s) {
				continue
			}
			items = slices.Clone(items)
			for j := i; j < len(items); j++ {
				for _, s := range fields(&items[j]) {
					*s = toNFC(*s)
				}
			}
			return items
		}
	}
	return items
}

// StatusEvent records one observed change of a dossier's status.
type StatusEvent struct {
	Key     DossierKey
	From    Status // 0 when the dossier was first seen
	To      Status
	RawFrom string
	RawTo   string
	At      time.Time // when the source says the change happened (SourceUpdatedAt)
	Source  string    // what observed it, e.g. the connector name
}
