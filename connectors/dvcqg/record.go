package dvcqg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/sla"
)

// DateLayout is the portal's date format, yyyyMMddHHmmss in Asia/Ho_Chi_Minh.
const DateLayout = "20060102150405"

// Decode maps one dossier record in the portal's JSON (an item of DanhSachHoSo,
// the result of TraCuuHoSo, a line of the simulator's /sim/state) to a Dossier
// of the connector named source. A record the sync must skip yields an error
// whose message is the reason, naming the field and its value.
func Decode(source string, data []byte) (dvcwatch.Dossier, error) {
	d, reason := decode(source, data)
	if reason != "" {
		return dvcwatch.Dossier{}, errors.New(reason)
	}
	return d, nil
}

// decode returns the dossier, or why it must be skipped; on a skip, the
// dossier's Key.Code is set when the record had one.
func decode(source string, data []byte) (dvcwatch.Dossier, string) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		var code struct {
			MaHoSo text `json:"MaHoSo"`
		}
		_ = json.Unmarshal(data, &code)
		return dvcwatch.Dossier{Key: dvcwatch.DossierKey{Source: source, Code: code.MaHoSo.s}}, connectors.DecodeReason("record", err)
	}
	return r.dossier(source)
}

// record is a dossier as the portal sends it. Field types are lenient (a
// number where a string is expected, "2" for 2, 0/1 for booleans), since
// public integrations show both forms.
type record struct {
	MaHoSo          text   `json:"MaHoSo"`
	SoBienNhan      text   `json:"SoBienNhan"`
	MaTTHC          text   `json:"MaTTHC"`
	TenTTHC         text   `json:"TenTTHC"`
	MaLinhVuc       text   `json:"MaLinhVuc"`
	TenLinhVuc      text   `json:"TenLinhVuc"`
	DonViXuLy       text   `json:"DonViXuLy"`
	KenhThucHien    number `json:"KenhThucHien"`
	LoaiDoiTuong    number `json:"LoaiDoiTuong"`
	ChuHoSo         text   `json:"ChuHoSo"`
	Email           text   `json:"Email"`
	SoDienThoai     text   `json:"SoDienThoai"`
	SoGiayToChuHoSo text   `json:"SoGiayToChuHoSo"`
	NgayNopHoSo     text   `json:"NgayNopHoSo"`
	NgayTiepNhan    text   `json:"NgayTiepNhan"`
	NgayHenTra      text   `json:"NgayHenTra"`
	NgayKetThucXuLy text   `json:"NgayKetThucXuLy"`
	NgayTra         text   `json:"NgayTra"`
	NgayTuChoi      text   `json:"NgayTuChoi"`
	TrangThaiHoSo   number `json:"TrangThaiHoSo"`
	NgayCapNhat     text   `json:"NgayCapNhat"`

	DuocThanhToanTrucTuyen flag `json:"DuocThanhToanTrucTuyen"`
	HoSoCoThanhPhanSoHoa   flag `json:"HoSoCoThanhPhanSoHoa"`

	DanhSachHoSoBoSung []supplement `json:"DanhSachHoSoBoSung"`
	QuaTrinhXuLy       []step       `json:"QuaTrinhXuLy"`
	DanhSachXinLoi     []apology    `json:"DanhSachXinLoi"`
}

type supplement struct {
	NgayBoSung         text `json:"NgayBoSung"`
	NgayTiepNhanBoSung text `json:"NgayTiepNhanBoSung"`
	NgayHenTraTruoc    text `json:"NgayHenTraTruoc"`
	NgayHenTraMoi      text `json:"NgayHenTraMoi"`
}

type step struct {
	NguoiXuLy              text `json:"NguoiXuLy"`
	ChucDanh               text `json:"ChucDanh"`
	PhongBanXuLy           text `json:"PhongBanXuLy"`
	ThoiDiemXuLy           text `json:"ThoiDiemXuLy"`
	NoiDungXuLy            text `json:"NoiDungXuLy"`
	TrangThai              text `json:"TrangThai"`
	NgayBatDau             text `json:"NgayBatDau"`
	NgayKetThucTheoQuyDinh text `json:"NgayKetThucTheoQuyDinh"`
}

type apology struct {
	NgayXinLoi    text `json:"NgayXinLoi"`
	NgayHenTraMoi text `json:"NgayHenTraMoi"`
	NguoiKy       text `json:"NguoiKy"`
	LyDo          text `json:"LyDo"`
}

func (r *record) dossier(source string) (dvcwatch.Dossier, string) {
	var c checker
	code := strings.TrimSpace(c.str("MaHoSo", r.MaHoSo))
	if code == "" && r.MaHoSo.kind != "bad" {
		c.Add("MaHoSo missing")
	}
	d := dvcwatch.Dossier{
		Key:           dvcwatch.DossierKey{Source: source, Code: code},
		ReceiptNo:     c.str("SoBienNhan", r.SoBienNhan),
		ProcedureCode: c.str("MaTTHC", r.MaTTHC),
		ProcedureName: c.str("TenTTHC", r.TenTTHC),
		FieldCode:     c.str("MaLinhVuc", r.MaLinhVuc),
		FieldName:     c.str("TenLinhVuc", r.TenLinhVuc),
		Agency:        c.str("DonViXuLy", r.DonViXuLy),
		Channel:       dvcwatch.Channel(c.int("KenhThucHien", r.KenhThucHien)),
		ApplicantKind: dvcwatch.ApplicantKind(c.int("LoaiDoiTuong", r.LoaiDoiTuong)),
		Applicant: dvcwatch.Applicant{
			Name:     c.str("ChuHoSo", r.ChuHoSo),
			Email:    c.str("Email", r.Email),
			Phone:    c.str("SoDienThoai", r.SoDienThoai),
			IDNumber: c.str("SoGiayToChuHoSo", r.SoGiayToChuHoSo),
		},
		SubmittedAt:       c.date("NgayNopHoSo", r.NgayNopHoSo),
		ReceivedAt:        c.date("NgayTiepNhan", r.NgayTiepNhan),
		DueAt:             c.date("NgayHenTra", r.NgayHenTra),
		ProcessedAt:       c.date("NgayKetThucXuLy", r.NgayKetThucXuLy),
		ReturnedAt:        c.date("NgayTra", r.NgayTra),
		RefusedAt:         c.date("NgayTuChoi", r.NgayTuChoi),
		Status:            c.status(r.TrangThaiHoSo),
		RawStatus:         strconv.Itoa(r.TrangThaiHoSo.n),
		PaidOnline:        c.flag("DuocThanhToanTrucTuyen", r.DuocThanhToanTrucTuyen),
		HasDigitizedParts: c.flag("HoSoCoThanhPhanSoHoa", r.HoSoCoThanhPhanSoHoa),
		SourceUpdatedAt:   c.date("NgayCapNhat", r.NgayCapNhat),
	}
	for i, s := range r.QuaTrinhXuLy {
		c.Entry = fmt.Sprintf(" (QuaTrinhXuLy %d)", i+1)
		d.Steps = append(d.Steps, dvcwatch.Step{
			Seq:           i + 1,
			Department:    c.str("PhongBanXuLy", s.PhongBanXuLy),
			Official:      c.str("NguoiXuLy", s.NguoiXuLy),
			OfficialTitle: c.str("ChucDanh", s.ChucDanh),
			Content:       c.str("NoiDungXuLy", s.NoiDungXuLy),
			State:         c.str("TrangThai", s.TrangThai),
			StartedAt:     c.date("NgayBatDau", s.NgayBatDau),
			DueAt:         c.date("NgayKetThucTheoQuyDinh", s.NgayKetThucTheoQuyDinh),
			FinishedAt:    c.date("ThoiDiemXuLy", s.ThoiDiemXuLy),
		})
	}
	for i, s := range r.DanhSachHoSoBoSung {
		c.Entry = fmt.Sprintf(" (DanhSachHoSoBoSung %d)", i+1)
		d.Supplements = append(d.Supplements, dvcwatch.Supplement{
			Seq:         i + 1,
			RequestedAt: c.date("NgayBoSung", s.NgayBoSung),
			ReturnedAt:  c.date("NgayTiepNhanBoSung", s.NgayTiepNhanBoSung),
			DueBefore:   c.date("NgayHenTraTruoc", s.NgayHenTraTruoc),
			DueAfter:    c.date("NgayHenTraMoi", s.NgayHenTraMoi),
		})
	}
	for i, a := range r.DanhSachXinLoi {
		c.Entry = fmt.Sprintf(" (DanhSachXinLoi %d)", i+1)
		d.Apologies = append(d.Apologies, dvcwatch.Apology{
			Seq:      i + 1,
			IssuedAt: c.date("NgayXinLoi", a.NgayXinLoi),
			NewDueAt: c.date("NgayHenTraMoi", a.NgayHenTraMoi),
			IssuedBy: c.str("NguoiKy", a.NguoiKy),
			Reason:   c.str("LyDo", a.LyDo),
		})
	}
	if reason := c.Reason(); reason != "" {
		return dvcwatch.Dossier{Key: d.Key}, reason
	}
	return d, ""
}

// checker reads a record's lenient fields, collecting what is wrong with them
// (see connectors.Problems); values are quoted only of fields that hold no
// personal data. Entry names the list entry read, e.g. " (QuaTrinhXuLy 2)".
type checker struct{ connectors.Problems }

func (c *checker) str(field string, t text) string {
	if t.kind == "bad" {
		c.Add("%s: not a string", field)
	}
	return t.s
}

func (c *checker) date(field string, t text) time.Time {
	s := strings.TrimSpace(t.s)
	if t.kind == "bad" || s == "" {
		c.str(field, t)
		return time.Time{}
	}
	d, err := time.ParseInLocation(DateLayout, s, sla.Location())
	if err != nil {
		c.Add("%s %s: not yyyyMMddHHmmss", field, connectors.Quote(s))
		return time.Time{}
	}
	return d
}

func (c *checker) int(field string, n number) int {
	if n.bad {
		c.Add("%s %s: not a number", field, connectors.Quote(n.raw))
	}
	return n.n
}

func (c *checker) status(n number) dvcwatch.Status {
	switch s := dvcwatch.Status(n.n); {
	case n.bad:
		c.Add("TrangThaiHoSo %s: not a number", connectors.Quote(n.raw))
	case !n.set:
		c.Add("TrangThaiHoSo missing")
	case !s.Valid():
		c.Add("TrangThaiHoSo %d: not a status 1–10", n.n)
	default:
		return s
	}
	return 0
}

func (c *checker) flag(field string, f flag) bool {
	if f.bad {
		c.Add("%s %s: not a boolean", field, connectors.Quote(f.raw))
	}
	return f.b
}

// text is a string the portal may also send as a number; null is "".
type text struct {
	s    string
	kind string // "" absent or null, "string", "number", "bad"
}

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
	case len(b) > 0 && b[0] == '"':
		t.kind = "string"
		return json.Unmarshal(b, &t.s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		t.kind, t.s = "number", string(b)
	default:
		t.kind = "bad" // an object or a list; never echoed, it may be personal
	}
	return nil
}

// number is an integer the portal may also send as a string ("2").
type number struct {
	n        int
	raw      string // as sent, for RawStatus and reasons
	set, bad bool
}

func (n *number) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	s := strings.TrimSpace(t.s)
	switch {
	case t.kind == "bad":
		n.set, n.bad, n.raw = true, true, "(a JSON object or list)"
	case s == "":
	default:
		n.set, n.raw = true, s
		v, err := strconv.Atoi(s)
		n.n, n.bad = v, err != nil
	}
	return nil
}

// flag is a boolean the portal may also send as 0/1 or "true"/"1".
type flag struct {
	b   bool
	raw string
	bad bool
}

func (f *flag) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		f.b = true
	case "false", "0", "", "null":
	default:
		f.bad, f.raw = true, s
	}
	return nil
}
