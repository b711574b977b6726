package portalsim

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch"
)

// dvLayout is the national portal's date format, in Asia/Ho_Chi_Minh.
const dvLayout = "20060102150405"

// osApplicant is the applicant as both portals report it.
type osApplicant struct {
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number"`
}

// rawStatus is the one-stop system's own name for each national status.
var rawStatus = [...]string{
	dvcwatch.StatusSubmitted:          "CHO_TIEP_NHAN",
	dvcwatch.StatusReceived:           "DA_TIEP_NHAN",
	dvcwatch.StatusRefused:            "TU_CHOI_TIEP_NHAN",
	dvcwatch.StatusInProgress:         "DANG_XU_LY",
	dvcwatch.StatusAwaitingSupplement: "CHO_BO_SUNG",
	dvcwatch.StatusAwaitingPayment:    "CHO_THUC_HIEN_NVTC",
	dvcwatch.StatusWithdrawn:          "CONG_DAN_RUT_HO_SO",
	dvcwatch.StatusStopped:            "DUNG_XU_LY",
	dvcwatch.StatusProcessed:          "CHO_TRA_KET_QUA",
	dvcwatch.StatusReturned:           "DA_TRA_KET_QUA",
}

var stepContents = []string{
	"Thẩm định hồ sơ",
	"Xem xét, trình ký kết quả",
	"Ký số, đóng dấu và chuyển Bộ phận Một cửa trả kết quả",
}

// progress is what the national portal's progress update (an entry of
// QuaTrinhXuLy) for an event says: NoiDungXuLy ("" for the step's own
// content) and TrangThai at the time of the update. Events without an entry
// (submission, reception, refusal, apology, collection) have no state.
var progress = [...]struct{ content, state string }{
	evInProgress:    {"", "Đang xử lý"},
	evStepDone:      {"", "Đang xử lý"},
	evSuppRequested: {"Yêu cầu bổ sung hồ sơ", "Chờ công dân bổ sung"},
	evSuppReturned:  {"Tiếp nhận hồ sơ bổ sung", "Đang xử lý"},
	evPayRequested:  {"Thông báo thực hiện nghĩa vụ tài chính", "Chờ thực hiện nghĩa vụ tài chính"},
	evPaid:          {"Xác nhận hoàn thành nghĩa vụ tài chính", "Đang xử lý"},
	evProcessed:     {"Hoàn thành xử lý, chuyển Bộ phận Một cửa trả kết quả", "Đã xử lý"},
	evWithdrawn:     {"Công dân rút hồ sơ", "Dừng xử lý"},
	evStopped:       {"Dừng xử lý do công dân không bổ sung hồ sơ", "Dừng xử lý"},
}

// eachUpdate calls fn for every progress update among the dossier's first n
// events, in order, with the step whose official holds the dossier then.
func (l *life) eachUpdate(n int, fn func(e event, step int)) {
	step := -1
	for _, e := range l.ev[:n] {
		switch e.kind {
		case evInProgress:
			step = 0
		case evStepDone:
			step++
		}
		if step >= 0 && int(e.kind) < len(progress) && progress[e.kind].state != "" {
			fn(e, step)
		}
	}
}

// textStyle is how one dossier's text is written on the wire: some systems
// push officials by display name rather than by user name, some send
// Vietnamese decomposed (NFD, combining marks), and some leave a step's
// department blank (the official's configured one then applies).
type textStyle struct {
	byName, nfdOfficials, nfdApplicant, nfdProcedure bool
	blankDept                                        uint8 // bit k: step k's department is blank
}

// Shares of dossiers (of steps, for blank departments) written each way.
const (
	byNameShare       = 0.15
	nfdOfficialsShare = 0.5 // of those by name
	nfdApplicantShare = 0.1
	nfdProcedureShare = 0.08
	blankDeptShare    = 0.08
)

func (g *gen) style(i uint64) textStyle {
	r := newRNG(g.seed, streamText, i)
	st := textStyle{byName: r.chance(byNameShare)}
	st.nfdOfficials = st.byName && r.chance(nfdOfficialsShare)
	st.nfdApplicant = r.chance(nfdApplicantShare)
	st.nfdProcedure = r.chance(nfdProcedureShare)
	for k := range 3 {
		if r.chance(blankDeptShare) {
			st.blankDept |= 1 << k
		}
	}
	return st
}

// official is how a step or an apology names official o.
func (g *gen) official(o int16, st textStyle) string {
	switch {
	case st.nfdOfficials:
		return g.nfd.officials[o]
	case st.byName:
		return g.dir.Officials[o].Name
	}
	return g.dir.Officials[o].ID
}

// title is official o's title (ChucDanh) as the dossier's steps write it.
func (g *gen) title(o int16, st textStyle) string {
	if st.nfdOfficials {
		return g.nfd.titles[o]
	}
	return g.dir.Officials[o].Title
}

// department is what step k says of its department (PhongBanXuLy).
func (g *gen) department(k int, o int16, st textStyle) string {
	if st.blankDept&(1<<k) != 0 {
		return ""
	}
	return g.dir.Officials[o].DepartmentCode
}

// procedureName is the procedure's name (TenTTHC) as the dossier writes it.
func (g *gen) procedureName(proc int, st textStyle) string {
	if st.nfdProcedure {
		return g.nfd.procedures[proc]
	}
	return g.dir.Procedures[proc].Name
}

// nfdNames are the directory's names decomposed (NFD), made once.
type nfdNames struct{ officials, titles, procedures []string }

func newNFDNames(d Directory) nfdNames {
	var n nfdNames
	for _, o := range d.Officials {
		n.officials = append(n.officials, norm.NFD.String(o.Name))
		n.titles = append(n.titles, norm.NFD.String(o.Title))
	}
	for _, p := range d.Procedures {
		n.procedures = append(n.procedures, norm.NFD.String(p.Name))
	}
	return n
}

// stepState is what a step's TrangThai says while the dossier is in a status.
func stepState(finished bool, st dvcwatch.Status) string {
	switch {
	case finished:
		return "Đã xử lý"
	case st == dvcwatch.StatusWithdrawn || st == dvcwatch.StatusStopped:
		return "Dừng xử lý"
	case st == dvcwatch.StatusAwaitingSupplement:
		return "Chờ công dân bổ sung"
	case st == dvcwatch.StatusAwaitingPayment:
		return "Chờ thực hiện nghĩa vụ tài chính"
	}
	return "Đang xử lý"
}

// applicant generates the dossier's applicant: fake, but shaped like the real thing.
func (g *gen) applicant(l *life) osApplicant {
	r := newRNG(g.seed, streamApplicant, l.idx)
	fam := familyNames[r.intn(len(familyNames))]
	female := r.chance(0.5)
	mid, given := maleMiddle[r.intn(len(maleMiddle))], maleGiven[r.intn(len(maleGiven))]
	if female {
		mid, given = femaleMiddle[r.intn(len(femaleMiddle))], femaleGiven[r.intn(len(femaleGiven))]
	}
	born := 1950 + r.intn(56)
	century := 0 // CCCD: the fourth digit encodes century and sex
	if born >= 2000 {
		century = 2
	}
	if female {
		century++
	}
	a := osApplicant{
		Name:     fam.vi + " " + mid.vi + " " + given.vi,
		IDNumber: provinceCodes[r.intn(len(provinceCodes))] + strconv.Itoa(century) + strconv.Itoa(born%100/10) + strconv.Itoa(born%10) + r.digits(6),
		Phone:    phonePrefixes[r.intn(len(phonePrefixes))] + r.digits(7),
	}
	switch x := r.float(); {
	case x < 0.45:
		a.Email = given.ascii + "." + fam.ascii + strconv.Itoa(born%100) + "@" + mailDomains[r.intn(len(mailDomains))]
	case x < 0.65:
		a.Email = fam.ascii + mid.ascii[:1] + given.ascii + r.digits(3) + "@" + mailDomains[r.intn(len(mailDomains))]
	}
	if r.chance(0.05) {
		a.Phone = ""
	}
	if l.kind == dvcwatch.ApplicantBusiness {
		word := businessWords[r.intn(len(businessWords))]
		kind := businessKinds[r.intn(len(businessKinds))]
		if kind == "Hộ kinh doanh" {
			word += " " + given.vi
		}
		a.Name = kind + " " + word
		a.IDNumber = "02" + r.digits(8) // tax code
	}
	return a
}

// receiptNo is the number on the receipt the desk hands out.
func receiptNo(code string) string { return "BN-" + code }

// snap is a dossier's record at an instant, ready to encode for either portal.
type snap struct {
	l       *life
	code    string
	st      dvcwatch.Status
	updated int64 // of the one-stop record

	submitted, received, due, processed, returned, refused int64
	paidOnline                                             bool
	app                                                    osApplicant
	style                                                  textStyle

	nSteps, nSupp, nApol int      // visible so far
	stepFinish           [3]int64 // 0 while open
	suppReturned         [2]int64
	suppDueAfter         [2]int64
}

func (g *gen) snapAt(l *life, t int64) snap {
	st, updated, _ := l.at(t)
	s := snap{
		l: l, code: g.code(l.idx), st: st, updated: updated, app: g.applicant(l), style: g.style(l.idx),
		submitted: seen(l.submitted, t), received: seen(l.received, t),
		processed: seen(l.processed, t), returned: seen(l.returned, t), refused: seen(l.refused, t),
		paidOnline: l.payOnline && seen(l.paid, t) != 0,
	}
	if s.style.nfdApplicant {
		s.app.Name = norm.NFD.String(s.app.Name)
	}
	if s.received != 0 {
		s.due = l.dueAt(t)
	}
	for k := 0; k < l.nSteps && l.steps[k].start <= t; k++ {
		s.nSteps = k + 1
		s.stepFinish[k] = seen(l.steps[k].finish, t)
	}
	for j := 0; j < l.nSupp && l.supps[j].requested <= t; j++ {
		s.nSupp = j + 1
		if s.suppReturned[j] = seen(l.supps[j].returned, t); s.suppReturned[j] != 0 {
			s.suppDueAfter[j] = l.supps[j].dueAfter
		}
	}
	for j := 0; j < l.nApol && l.apol[j].issued <= t; j++ {
		s.nApol = j + 1
	}
	return s
}

// seen returns x if it happened by t, else 0.
func seen(x, t int64) int64 {
	if x != 0 && x <= t {
		return x
	}
	return 0
}

// appendOS appends the one-stop item of the dossier at t: snake_case fields,
// instants in RFC 3339 with the +07:00 offset, absent ones omitted. The field
// order and encoding are those of encoding/json on the osItem type (see the
// tests), written by hand because reflection made rendering the bottleneck.
func (g *gen) appendOS(b []byte, l *life, t int64) []byte {
	s := g.snapAt(l, t)
	p := &g.dir.Procedures[l.proc]
	b = append(b, `{"code":`...)
	b = appendString(b, s.code)
	b = append(b, `,"receipt_no":`...)
	b = appendString(b, receiptNo(s.code))
	b = append(b, `,"procedure_code":`...)
	b = appendString(b, p.Code)
	b = append(b, `,"procedure_name":`...)
	b = appendString(b, g.procedureName(l.proc, s.style))
	b = append(b, `,"field_code":`...)
	b = appendString(b, p.FieldCode)
	b = append(b, `,"field_name":`...)
	b = appendString(b, p.FieldName)
	b = append(b, `,"agency_code":`...)
	b = appendString(b, g.agency)
	b = append(b, `,"channel":`...)
	b = strconv.AppendInt(b, int64(l.channel), 10)
	b = append(b, `,"applicant_kind":`...)
	b = strconv.AppendInt(b, int64(l.kind), 10)
	b = append(b, `,"applicant":{"name":`...)
	b = appendString(b, s.app.Name)
	if s.app.Email != "" {
		b = append(b, `,"email":`...)
		b = appendString(b, s.app.Email)
	}
	if s.app.Phone != "" {
		b = append(b, `,"phone":`...)
		b = appendString(b, s.app.Phone)
	}
	b = append(b, `,"id_number":`...)
	b = appendString(b, s.app.IDNumber)
	b = append(b, '}')
	b = appendOSTime(b, `,"submitted_at":`, s.submitted)
	b = appendOSTime(b, `,"received_at":`, s.received)
	b = appendOSTime(b, `,"due_at":`, s.due)
	b = appendOSTime(b, `,"processed_at":`, s.processed)
	b = appendOSTime(b, `,"returned_at":`, s.returned)
	b = appendOSTime(b, `,"refused_at":`, s.refused)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(s.st), 10)
	b = append(b, `,"raw_status":`...)
	b = appendString(b, rawStatus[s.st])
	b = append(b, `,"paid_online":`...)
	b = strconv.AppendBool(b, s.paidOnline)
	b = append(b, `,"has_digitized_parts":`...)
	b = strconv.AppendBool(b, l.digitized)
	b = append(b, `,"updated_at":"`...)
	b = appendRFC3339(b, s.updated)
	b = append(b, `","steps":[`...)
	for k := 0; k < s.nSteps; k++ {
		st := l.steps[k]
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, int64(k+1), 10)
		b = append(b, `,"department":`...)
		b = appendString(b, g.department(k, st.official, s.style))
		b = append(b, `,"official":`...)
		b = appendString(b, g.official(st.official, s.style))
		b = append(b, `,"official_title":`...)
		b = appendString(b, g.title(st.official, s.style))
		b = append(b, `,"content":`...)
		b = appendString(b, stepContents[st.content])
		b = append(b, `,"state":`...)
		b = appendString(b, stepState(s.stepFinish[k] != 0, s.st))
		b = appendOSTime(b, `,"started_at":`, st.start)
		b = appendOSTime(b, `,"due_at":`, st.due)
		b = appendOSTime(b, `,"finished_at":`, s.stepFinish[k])
		b = append(b, '}')
	}
	b = append(b, `],"supplements":[`...)
	for j := 0; j < s.nSupp; j++ {
		su := l.supps[j]
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, int64(j+1), 10)
		b = appendOSTime(b, `,"requested_at":`, su.requested)
		b = appendOSTime(b, `,"returned_at":`, s.suppReturned[j])
		b = appendOSTime(b, `,"due_before":`, su.dueBefore)
		b = appendOSTime(b, `,"due_after":`, s.suppDueAfter[j])
		b = append(b, '}')
	}
	b = append(b, `],"apologies":[`...)
	for j := 0; j < s.nApol; j++ {
		a := l.apol[j]
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, int64(j+1), 10)
		b = appendOSTime(b, `,"issued_at":`, a.issued)
		b = appendOSTime(b, `,"new_due_at":`, a.newDue)
		b = append(b, `,"issued_by":`...)
		b = appendString(b, g.official(a.issuer, s.style))
		b = append(b, `,"reason":`...)
		b = appendString(b, apologyReasons[a.reason])
		b = append(b, '}')
	}
	b = append(b, `],"synced_to_dvcqg":`...)
	b = strconv.AppendBool(b, !l.dvMissing)
	return append(b, '}')
}

// appendDV appends the DVCQG record that mirrors the one-stop record at asOf
// and was updated on DVCQG at updated: PascalCase fields, dates as
// yyyyMMddHHmmss strings, "" when absent. QuaTrinhXuLy holds the progress
// updates pushed so far, one entry per update (ThoiDiemXuLy is its time, the
// last entry of an open dossier names who holds it now); NguoiXuLy and
// NguoiKy are officials' user names or display names.
func (g *gen) appendDV(b []byte, l *life, asOf, updated int64) []byte {
	s := g.snapAt(l, asOf)
	_, _, nEv := l.at(asOf)
	p := &g.dir.Procedures[l.proc]
	b = append(b, `{"MaHoSo":`...)
	b = appendString(b, s.code)
	b = append(b, `,"SoBienNhan":`...)
	b = appendString(b, receiptNo(s.code))
	b = append(b, `,"MaTTHC":`...)
	b = appendString(b, p.Code)
	b = append(b, `,"TenTTHC":`...)
	b = appendString(b, g.procedureName(l.proc, s.style))
	b = append(b, `,"MaLinhVuc":`...)
	b = appendString(b, p.FieldCode)
	b = append(b, `,"TenLinhVuc":`...)
	b = appendString(b, p.FieldName)
	b = append(b, `,"DonViXuLy":`...)
	b = appendString(b, g.agency)
	b = append(b, `,"KenhThucHien":`...)
	b = strconv.AppendInt(b, int64(l.channel), 10)
	b = append(b, `,"LoaiDoiTuong":`...)
	b = strconv.AppendInt(b, int64(l.kind), 10)
	b = append(b, `,"ChuHoSo":`...)
	b = appendString(b, s.app.Name)
	b = append(b, `,"Email":`...)
	b = appendString(b, s.app.Email)
	b = append(b, `,"SoDienThoai":`...)
	b = appendString(b, s.app.Phone)
	b = append(b, `,"SoGiayToChuHoSo":`...)
	b = appendString(b, s.app.IDNumber)
	b = appendDVTime(b, `,"NgayNopHoSo":`, s.submitted)
	b = appendDVTime(b, `,"NgayTiepNhan":`, s.received)
	b = appendDVTime(b, `,"NgayHenTra":`, s.due)
	b = appendDVTime(b, `,"NgayKetThucXuLy":`, s.processed)
	b = appendDVTime(b, `,"NgayTra":`, s.returned)
	b = appendDVTime(b, `,"NgayTuChoi":`, s.refused)
	b = append(b, `,"TrangThaiHoSo":`...)
	b = strconv.AppendInt(b, int64(s.st), 10)
	b = appendDVTime(b, `,"NgayCapNhat":`, updated)
	b = append(b, `,"DuocThanhToanTrucTuyen":`...)
	b = strconv.AppendBool(b, s.paidOnline)
	b = append(b, `,"HoSoCoThanhPhanSoHoa":`...)
	b = strconv.AppendBool(b, l.digitized)
	b = append(b, `,"DanhSachHoSoBoSung":[`...)
	for j := 0; j < s.nSupp; j++ {
		su := l.supps[j]
		if j > 0 {
			b = append(b, ',')
		}
		b = appendDVTime(b, `{"NgayBoSung":`, su.requested)
		b = appendDVTime(b, `,"NgayTiepNhanBoSung":`, s.suppReturned[j])
		b = appendDVTime(b, `,"NgayHenTraTruoc":`, su.dueBefore)
		b = appendDVTime(b, `,"NgayHenTraMoi":`, s.suppDueAfter[j])
		b = append(b, '}')
	}
	b = append(b, `],"QuaTrinhXuLy":[`...)
	sep := false
	l.eachUpdate(nEv, func(e event, k int) {
		st := l.steps[k]
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, `{"NguoiXuLy":`...)
		b = appendString(b, g.official(st.official, s.style))
		b = append(b, `,"ChucDanh":`...)
		b = appendString(b, g.title(st.official, s.style))
		b = append(b, `,"PhongBanXuLy":`...)
		b = appendString(b, g.department(k, st.official, s.style))
		b = appendDVTime(b, `,"ThoiDiemXuLy":`, e.at)
		b = append(b, `,"NoiDungXuLy":`...)
		b = appendString(b, updateContent(e, st))
		b = append(b, `,"TrangThai":`...)
		b = appendString(b, progress[e.kind].state)
		b = appendDVTime(b, `,"NgayBatDau":`, st.start)
		b = appendDVTime(b, `,"NgayKetThucTheoQuyDinh":`, st.due)
		b = append(b, '}')
	})
	b = append(b, `],"DanhSachXinLoi":[`...)
	for j := 0; j < s.nApol; j++ {
		a := l.apol[j]
		if j > 0 {
			b = append(b, ',')
		}
		b = appendDVTime(b, `{"NgayXinLoi":`, a.issued)
		b = appendDVTime(b, `,"NgayHenTraMoi":`, a.newDue)
		b = append(b, `,"NguoiKy":`...)
		b = appendString(b, g.official(a.issuer, s.style))
		b = append(b, `,"LyDo":`...)
		b = appendString(b, apologyReasons[a.reason])
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// updateContent is the NoiDungXuLy of a progress update during step st.
func updateContent(e event, st lstep) string {
	if c := progress[e.kind].content; c != "" {
		return c
	}
	return stepContents[st.content]
}

// appendOSTime appends a key and an RFC 3339 instant, or nothing for zero.
func appendOSTime(b []byte, key string, t int64) []byte {
	if t == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = appendRFC3339(b, t)
	return append(b, '"')
}

// appendDVTime appends a key and a yyyyMMddHHmmss date, "" for zero.
func appendDVTime(b []byte, key string, t int64) []byte {
	b = append(b, key...)
	b = append(b, '"')
	if t != 0 {
		y, mo, d, h, mi, se := civil(t)
		b = append4(b, y)
		b = append2(append2(b, mo), d)
		b = append2(append2(append2(b, h), mi), se)
	}
	return append(b, '"')
}

// appendRFC3339 appends a Unix instant as RFC 3339 in Asia/Ho_Chi_Minh.
func appendRFC3339(b []byte, t int64) []byte {
	y, mo, d, h, mi, se := civil(t)
	b = append(append4(b, y), '-')
	b = append(append2(b, mo), '-')
	b = append(append2(b, d), 'T')
	b = append(append2(b, h), ':')
	b = append(append2(b, mi), ':')
	b = append2(b, se)
	return append(b, "+07:00"...)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }

// civil splits a Unix instant into its date and time of day in UTC+7 (the
// days-from-civil algorithm of H. Hinnant, run backwards).
func civil(t int64) (year, month, day, hour, minute, second int) {
	local := t + tzOffset
	days := floorDiv(local, daySec)
	sod := int(local - days*daySec)
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if mp >= 10 {
		month = int(mp - 9)
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day, sod / 3600, sod % 3600 / 60, sod % 60
}

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c == 0xe2 {
			if c == 0xe2 { // U+2028 and U+2029 are escaped; other runes from E2 are not
				if r, _ := utf8.DecodeRuneInString(s[i:]); r != '\u2028' && r != '\u2029' {
					continue
				}
			}
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
