package portalsim

import (
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dvcwatch/dvcwatch/sla"
)

// The wire formats as Go types. The simulator writes records by hand for speed;
// these types, through encoding/json, are the reference it must match byte for byte.

// The national portal's record (PascalCase; dates as dvLayout strings, "" when
// absent). QuaTrinhXuLy holds one entry per progress update, ThoiDiemXuLy
// being its time. NguoiXuLy and NguoiKy are officials' user names or names.
type dvRecord struct {
	MaHoSo                 string      `json:"MaHoSo"`
	SoBienNhan             string      `json:"SoBienNhan"`
	MaTTHC                 string      `json:"MaTTHC"`
	TenTTHC                string      `json:"TenTTHC"`
	MaLinhVuc              string      `json:"MaLinhVuc"`
	TenLinhVuc             string      `json:"TenLinhVuc"`
	DonViXuLy              string      `json:"DonViXuLy"`
	KenhThucHien           int         `json:"KenhThucHien"`
	LoaiDoiTuong           int         `json:"LoaiDoiTuong"`
	ChuHoSo                string      `json:"ChuHoSo"`
	Email                  string      `json:"Email"`
	SoDienThoai            string      `json:"SoDienThoai"`
	SoGiayToChuHoSo        string      `json:"SoGiayToChuHoSo"`
	NgayNopHoSo            string      `json:"NgayNopHoSo"`
	NgayTiepNhan           string      `json:"NgayTiepNhan"`
	NgayHenTra             string      `json:"NgayHenTra"`
	NgayKetThucXuLy        string      `json:"NgayKetThucXuLy"`
	NgayTra                string      `json:"NgayTra"`
	NgayTuChoi             string      `json:"NgayTuChoi"`
	TrangThaiHoSo          int         `json:"TrangThaiHoSo"`
	NgayCapNhat            string      `json:"NgayCapNhat"`
	DuocThanhToanTrucTuyen bool        `json:"DuocThanhToanTrucTuyen"`
	HoSoCoThanhPhanSoHoa   bool        `json:"HoSoCoThanhPhanSoHoa"`
	DanhSachHoSoBoSung     []dvSupp    `json:"DanhSachHoSoBoSung"`
	QuaTrinhXuLy           []dvStep    `json:"QuaTrinhXuLy"`
	DanhSachXinLoi         []dvApology `json:"DanhSachXinLoi"`
}

type dvSupp struct {
	NgayBoSung         string `json:"NgayBoSung"`
	NgayTiepNhanBoSung string `json:"NgayTiepNhanBoSung"`
	NgayHenTraTruoc    string `json:"NgayHenTraTruoc"`
	NgayHenTraMoi      string `json:"NgayHenTraMoi"`
}

type dvStep struct {
	NguoiXuLy              string `json:"NguoiXuLy"`
	ChucDanh               string `json:"ChucDanh"`
	PhongBanXuLy           string `json:"PhongBanXuLy"`
	ThoiDiemXuLy           string `json:"ThoiDiemXuLy"`
	NoiDungXuLy            string `json:"NoiDungXuLy"`
	TrangThai              string `json:"TrangThai"`
	NgayBatDau             string `json:"NgayBatDau"`
	NgayKetThucTheoQuyDinh string `json:"NgayKetThucTheoQuyDinh"`
}

type dvApology struct {
	NgayXinLoi    string `json:"NgayXinLoi"`
	NgayHenTraMoi string `json:"NgayHenTraMoi"`
	NguoiKy       string `json:"NguoiKy"`
	LyDo          string `json:"LyDo"`
}

// The one-stop system's item (snake_case; instants RFC 3339 with the +07:00
// offset, omitted when absent).
type osItem struct {
	Code              string      `json:"code"`
	ReceiptNo         string      `json:"receipt_no"`
	ProcedureCode     string      `json:"procedure_code"`
	ProcedureName     string      `json:"procedure_name"`
	FieldCode         string      `json:"field_code"`
	FieldName         string      `json:"field_name"`
	AgencyCode        string      `json:"agency_code"`
	Channel           int         `json:"channel"`
	ApplicantKind     int         `json:"applicant_kind"`
	Applicant         osApplicant `json:"applicant"`
	SubmittedAt       osTime      `json:"submitted_at,omitempty"`
	ReceivedAt        osTime      `json:"received_at,omitempty"`
	DueAt             osTime      `json:"due_at,omitempty"`
	ProcessedAt       osTime      `json:"processed_at,omitempty"`
	ReturnedAt        osTime      `json:"returned_at,omitempty"`
	RefusedAt         osTime      `json:"refused_at,omitempty"`
	Status            int         `json:"status"`
	RawStatus         string      `json:"raw_status"`
	PaidOnline        bool        `json:"paid_online"`
	HasDigitizedParts bool        `json:"has_digitized_parts"`
	UpdatedAt         osTime      `json:"updated_at"`
	Steps             []osStep    `json:"steps"`
	Supplements       []osSupp    `json:"supplements"`
	Apologies         []osApology `json:"apologies"`
	SyncedToDVCQG     bool        `json:"synced_to_dvcqg"`
}

type osStep struct {
	Seq           int    `json:"seq"`
	Department    string `json:"department"`
	Official      string `json:"official"`
	OfficialTitle string `json:"official_title"`
	Content       string `json:"content"`
	State         string `json:"state"`
	StartedAt     osTime `json:"started_at,omitempty"`
	DueAt         osTime `json:"due_at,omitempty"`
	FinishedAt    osTime `json:"finished_at,omitempty"`
}

type osSupp struct {
	Seq         int    `json:"seq"`
	RequestedAt osTime `json:"requested_at,omitempty"`
	ReturnedAt  osTime `json:"returned_at,omitempty"`
	DueBefore   osTime `json:"due_before,omitempty"`
	DueAfter    osTime `json:"due_after,omitempty"`
}

type osApology struct {
	Seq      int    `json:"seq"`
	IssuedAt osTime `json:"issued_at,omitempty"`
	NewDueAt osTime `json:"new_due_at,omitempty"`
	IssuedBy string `json:"issued_by"`
	Reason   string `json:"reason"`
}

// osTime is a Unix instant written as RFC 3339 in Asia/Ho_Chi_Minh; zero is
// omitted by omitempty.
type osTime int64

// MarshalJSON writes the instant as an RFC 3339 string.
func (t osTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 27)
	b = append(b, '"')
	b = time.Unix(int64(t), 0).In(sla.Location()).AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

func dvTime(t int64) string {
	if t == 0 {
		return ""
	}
	return time.Unix(t, 0).In(sla.Location()).Format(dvLayout)
}

// refOS builds the reference one-stop item the slow, obvious way.
func (g *gen) refOS(l *life, t int64) osItem {
	p := &g.dir.Procedures[l.proc]
	st, updated, _ := l.at(t)
	code := g.code(l.idx)
	style := g.style(l.idx)
	app := g.applicant(l)
	if style.nfdApplicant {
		app.Name = norm.NFD.String(app.Name)
	}
	it := osItem{
		Code: code, ReceiptNo: receiptNo(code),
		ProcedureCode: p.Code, ProcedureName: g.procedureName(l.proc, style), FieldCode: p.FieldCode, FieldName: p.FieldName,
		AgencyCode: g.agency, Channel: int(l.channel), ApplicantKind: int(l.kind),
		Applicant:   app,
		SubmittedAt: osTime(seen(l.submitted, t)), ReceivedAt: osTime(seen(l.received, t)),
		ProcessedAt: osTime(seen(l.processed, t)), ReturnedAt: osTime(seen(l.returned, t)),
		RefusedAt: osTime(seen(l.refused, t)),
		Status:    int(st), RawStatus: rawStatus[st],
		PaidOnline: l.payOnline && seen(l.paid, t) != 0, HasDigitizedParts: l.digitized,
		UpdatedAt: osTime(updated), Steps: []osStep{}, Supplements: []osSupp{}, Apologies: []osApology{},
		SyncedToDVCQG: !l.dvMissing,
	}
	if l.received != 0 && l.received <= t {
		it.DueAt = osTime(l.dueAt(t))
	}
	for k := 0; k < l.nSteps && l.steps[k].start <= t; k++ {
		s := l.steps[k]
		fin := seen(s.finish, t)
		it.Steps = append(it.Steps, osStep{
			Seq: k + 1, Department: g.department(k, s.official, style),
			Official: g.official(s.official, style), OfficialTitle: g.title(s.official, style),
			Content: stepContents[s.content], State: stepState(fin != 0, st),
			StartedAt: osTime(s.start), DueAt: osTime(s.due), FinishedAt: osTime(fin),
		})
	}
	for j := 0; j < l.nSupp && l.supps[j].requested <= t; j++ {
		s := l.supps[j]
		o := osSupp{Seq: j + 1, RequestedAt: osTime(s.requested), DueBefore: osTime(s.dueBefore)}
		if seen(s.returned, t) != 0 {
			o.ReturnedAt, o.DueAfter = osTime(s.returned), osTime(s.dueAfter)
		}
		it.Supplements = append(it.Supplements, o)
	}
	for j := 0; j < l.nApol && l.apol[j].issued <= t; j++ {
		a := l.apol[j]
		it.Apologies = append(it.Apologies, osApology{
			Seq: j + 1, IssuedAt: osTime(a.issued), NewDueAt: osTime(a.newDue),
			IssuedBy: g.official(a.issuer, style), Reason: apologyReasons[a.reason],
		})
	}
	return it
}

func (g *gen) refDV(l *life, asOf, updated int64) dvRecord {
	it := g.refOS(l, asOf)
	r := dvRecord{
		MaHoSo: it.Code, SoBienNhan: it.ReceiptNo,
		MaTTHC: it.ProcedureCode, TenTTHC: it.ProcedureName, MaLinhVuc: it.FieldCode, TenLinhVuc: it.FieldName,
		DonViXuLy: it.AgencyCode, KenhThucHien: it.Channel, LoaiDoiTuong: it.ApplicantKind,
		ChuHoSo: it.Applicant.Name, Email: it.Applicant.Email, SoDienThoai: it.Applicant.Phone, SoGiayToChuHoSo: it.Applicant.IDNumber,
		NgayNopHoSo: dvTime(int64(it.SubmittedAt)), NgayTiepNhan: dvTime(int64(it.ReceivedAt)), NgayHenTra: dvTime(int64(it.DueAt)),
		NgayKetThucXuLy: dvTime(int64(it.ProcessedAt)), NgayTra: dvTime(int64(it.ReturnedAt)), NgayTuChoi: dvTime(int64(it.RefusedAt)),
		TrangThaiHoSo: it.Status, NgayCapNhat: dvTime(updated),
		DuocThanhToanTrucTuyen: it.PaidOnline, HoSoCoThanhPhanSoHoa: it.HasDigitizedParts,
		DanhSachHoSoBoSung: []dvSupp{}, QuaTrinhXuLy: []dvStep{}, DanhSachXinLoi: []dvApology{},
	}
	for _, s := range it.Supplements {
		r.DanhSachHoSoBoSung = append(r.DanhSachHoSoBoSung, dvSupp{
			NgayBoSung: dvTime(int64(s.RequestedAt)), NgayTiepNhanBoSung: dvTime(int64(s.ReturnedAt)),
			NgayHenTraTruoc: dvTime(int64(s.DueBefore)), NgayHenTraMoi: dvTime(int64(s.DueAfter)),
		})
	}
	_, _, n := l.at(asOf)
	l.eachUpdate(n, func(e event, k int) {
		s := it.Steps[k]
		r.QuaTrinhXuLy = append(r.QuaTrinhXuLy, dvStep{
			NguoiXuLy: s.Official, ChucDanh: s.OfficialTitle, PhongBanXuLy: s.Department,
			ThoiDiemXuLy: dvTime(e.at), NoiDungXuLy: updateContent(e, l.steps[k]), TrangThai: progress[e.kind].state,
			NgayBatDau: dvTime(int64(s.StartedAt)), NgayKetThucTheoQuyDinh: dvTime(int64(s.DueAt)),
		})
	})
	for _, a := range it.Apologies {
		r.DanhSachXinLoi = append(r.DanhSachXinLoi, dvApology{
			NgayXinLoi: dvTime(int64(a.IssuedAt)), NgayHenTraMoi: dvTime(int64(a.NewDueAt)), NguoiKy: a.IssuedBy, LyDo: a.Reason,
		})
	}
	return r
}

func TestEncodingMatchesReference(t *testing.T) {
	t.Parallel()
	s := New(Options{Seed: 9, Dossiers: 800, Start: testStart})
	v := s.view()
	var l life
	for i := 0; i < v.n; i++ {
		s.g.plan(uint64(i), dvRates{missing: 0.1, mismatch: 0.3, lag: 0.3}, &l)
		for _, at := range []int64{l.first(), (l.first() + v.now) / 2, v.now, l.ev[l.nEv-1].at} {
			if at < l.first() {
				continue // records exist from their first event on
			}
			want, err := json.Marshal(s.g.refOS(&l, at))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.g.appendOS(nil, &l, at); string(got) != string(want) {
				t.Fatalf("one-stop item %d at %d:\n got %s\nwant %s", i, at, got, want)
			}
			if asOf, updated, ok := l.dvAt(at); ok {
				want, _ := json.Marshal(s.g.refDV(&l, asOf, updated))
				if got := s.g.appendDV(nil, &l, asOf, updated); string(got) != string(want) {
					t.Fatalf("DVCQG record %d at %d:\n got %s\nwant %s", i, at, got, want)
				}
			}
		}
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "Nguyễn Thị Hương", "Phòng Văn hóa – Xã hội", `a"b\c`, "<b>&", "line\nbreak\t", "\u2028\u2029", "bad \xff utf8", "x\u2026y"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestCivil(t *testing.T) {
	t.Parallel()
	r := newRNG(3, 99, 0)
	for n := 0; n < 20000; n++ {
		u := int64(946684800) + int64(r.intn(100*365*daySec))
		want := time.Unix(u, 0).In(sla.Location())
		if got := string(appendRFC3339(nil, u)); got != want.Format(time.RFC3339) {
			t.Fatalf("appendRFC3339(%d) = %s, want %s", u, got, want.Format(time.RFC3339))
		}
		if got := string(appendDVTime(nil, "", u)); got != `"`+want.Format(dvLayout)+`"` {
			t.Fatalf("appendDVTime(%d) = %s, want %s", u, got, want.Format(dvLayout))
		}
	}
}
