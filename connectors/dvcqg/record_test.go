package dvcqg_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/connectors/dvcqg"
	"github.com/dvcwatch/dvcwatch/connectors/httpx/httpxtest"
	"github.com/dvcwatch/dvcwatch/sla"
)

// hcm returns a wall-clock time in Asia/Ho_Chi_Minh.
func hcm(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, sla.Location())
}

// fullRecord is a record with every field the portal sends.
func fullRecord() map[string]any {
	return map[string]any{
		"MaHoSo": "000.00.31.H01-261101-0001", "SoBienNhan": "BN-0001",
		"MaTTHC": "1.001234", "TenTTHC": "Đăng ký khai sinh",
		"MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "DonViXuLy": "000.00.31.H01",
		"KenhThucHien": 2, "LoaiDoiTuong": 1,
		"ChuHoSo": "Nguyễn Văn An", "Email": "an.nguyen@example.vn", "SoDienThoai": "0912345678",
		"SoGiayToChuHoSo": "001099012345",
		"NgayNopHoSo":     "20261101080000", "NgayTiepNhan": "20261101083000", "NgayHenTra": "20261104170000",
		"NgayKetThucXuLy": "", "NgayTra": "", "NgayTuChoi": "",
		"TrangThaiHoSo": 4, "NgayCapNhat": "20261102091500",
		"DuocThanhToanTrucTuyen": true, "HoSoCoThanhPhanSoHoa": false,
		"DanhSachHoSoBoSung": []any{map[string]any{
			"NgayBoSung": "20261101100000", "NgayTiepNhanBoSung": "20261102080000",
			"NgayHenTraTruoc": "20261103170000", "NgayHenTraMoi": "20261104170000",
		}},
		"QuaTrinhXuLy": []any{
			map[string]any{"NguoiXuLy": "cb.tiepnhan", "ChucDanh": "Công chức", "PhongBanXuLy": "TN",
				"ThoiDiemXuLy": "20261101083000", "NoiDungXuLy": "Tiếp nhận", "TrangThai": "2",
				"NgayBatDau": "20261101080000", "NgayKetThucTheoQuyDinh": "20261101170000"},
			map[string]any{"NguoiXuLy": "cb.tuphap", "ChucDanh": "Công chức tư pháp", "PhongBanXuLy": "TP",
				"ThoiDiemXuLy": "", "NoiDungXuLy": "Thẩm định", "TrangThai": 4,
				"NgayBatDau": "20261101083000", "NgayKetThucTheoQuyDinh": "20261103170000"},
		},
		"DanhSachXinLoi": []any{map[string]any{
			"NgayXinLoi": "20261103090000", "NgayHenTraMoi": "20261106170000", "NguoiKy": "Chủ tịch UBND", "LyDo": "Chờ xác minh",
		}},
	}
}

func TestDecodeMapsEveryField(t *testing.T) {
	t.Parallel()
	got, err := dvcqg.Decode("dvcqg", httpxtest.JSON(t, fullRecord()))
	if err != nil {
		t.Fatal(err)
	}
	want := dvcwatch.Dossier{
		Key:       dvcwatch.DossierKey{Source: "dvcqg", Code: "000.00.31.H01-261101-0001"},
		ReceiptNo: "BN-0001", ProcedureCode: "1.001234", ProcedureName: "Đăng ký khai sinh",
		FieldCode: "HT", FieldName: "Hộ tịch", Agency: "000.00.31.H01",
		Channel: dvcwatch.ChannelOnline, ApplicantKind: dvcwatch.ApplicantCitizen,
		Applicant: dvcwatch.Applicant{Name: "Nguyễn Văn An", Email: "an.nguyen@example.vn",
			Phone: "0912345678", IDNumber: "001099012345"},
		SubmittedAt: hcm(2026, 11, 1, 8, 0, 0), ReceivedAt: hcm(2026, 11, 1, 8, 30, 0),
		DueAt:  hcm(2026, 11, 4, 17, 0, 0),
		Status: dvcwatch.StatusInProgress, RawStatus: "4",
		PaidOnline: true,
		Steps: []dvcwatch.Step{
			{Seq: 1, Department: "TN", Official: "cb.tiepnhan", OfficialTitle: "Công chức", Content: "Tiếp nhận",
				State: "2", StartedAt: hcm(2026, 11, 1, 8, 0, 0), DueAt: hcm(2026, 11, 1, 17, 0, 0),
				FinishedAt: hcm(2026, 11, 1, 8, 30, 0)},
			{Seq: 2, Department: "TP", Official: "cb.tuphap", OfficialTitle: "Công chức tư pháp", Content: "Thẩm định",
				State: "4", StartedAt: hcm(2026, 11, 1, 8, 30, 0), DueAt: hcm(2026, 11, 3, 17, 0, 0)},
		},
		Supplements: []dvcwatch.Supplement{{Seq: 1, RequestedAt: hcm(2026, 11, 1, 10, 0, 0),
			ReturnedAt: hcm(2026, 11, 2, 8, 0, 0), DueBefore: hcm(2026, 11, 3, 17, 0, 0), DueAfter: hcm(2026, 11, 4, 17, 0, 0)}},
		Apologies: []dvcwatch.Apology{{Seq: 1, IssuedAt: hcm(2026, 11, 3, 9, 0, 0), NewDueAt: hcm(2026, 11, 6, 17, 0, 0),
			IssuedBy: "Chủ tịch UBND", Reason: "Chờ xác minh"}},
		SourceUpdatedAt: hcm(2026, 11, 2, 9, 15, 0),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDecodeLenientForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rec   map[string]any
		check func(d dvcwatch.Dossier) bool
	}{
		{"status as a string", httpxtest.With(fullRecord(), "TrangThaiHoSo", "4"),
			func(d dvcwatch.Dossier) bool { return d.Status == 4 && d.RawStatus == "4" }},
		{"status as a zero-padded string", httpxtest.With(fullRecord(), "TrangThaiHoSo", "09"),
			func(d dvcwatch.Dossier) bool { return d.Status == 9 && d.RawStatus == "9" }},
		{"channel as a string", httpxtest.With(fullRecord(), "KenhThucHien", "1"),
			func(d dvcwatch.Dossier) bool { return d.Channel == dvcwatch.ChannelInPerson }},
		{"flags as numbers and strings", httpxtest.With(fullRecord(), "DuocThanhToanTrucTuyen", 0, "HoSoCoThanhPhanSoHoa", "1"),
			func(d dvcwatch.Dossier) bool { return !d.PaidOnline && d.HasDigitizedParts }},
		{"receipt number as a number", httpxtest.With(fullRecord(), "SoBienNhan", 12345),
			func(d dvcwatch.Dossier) bool { return d.ReceiptNo == "12345" }},
		{"absent and null dates are zero", httpxtest.With(fullRecord(), "NgayTiepNhan", nil, "NgayHenTra", json.RawMessage("null")),
			func(d dvcwatch.Dossier) bool { return d.ReceivedAt.IsZero() && d.DueAt.IsZero() }},
		{"no update time", httpxtest.With(fullRecord(), "NgayCapNhat", ""),
			func(d dvcwatch.Dossier) bool { return d.SourceUpdatedAt.IsZero() }},
		{"no lists", httpxtest.With(fullRecord(), "QuaTrinhXuLy", json.RawMessage("null"), "DanhSachXinLoi", nil, "DanhSachHoSoBoSung", []any{}),
			func(d dvcwatch.Dossier) bool { return len(d.Steps)+len(d.Apologies)+len(d.Supplements) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := dvcqg.Decode("dvcqg", httpxtest.JSON(t, tt.rec))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(d) {
				t.Errorf("unexpected mapping: %+v", d)
			}
		})
	}
}

func TestDecodeSkipReasons(t *testing.T) {
	t.Parallel()
	steps := fullRecord()["QuaTrinhXuLy"].([]any)
	badStep := httpxtest.With(steps[1].(map[string]any), "NgayBatDau", "2026-11-01")
	tests := []struct {
		name string
		rec  any
		want string
	}{
		{"no code", httpxtest.With(fullRecord(), "MaHoSo", nil), "MaHoSo missing"},
		{"blank code", httpxtest.With(fullRecord(), "MaHoSo", "  "), "MaHoSo missing"},
		{"bad date", httpxtest.With(fullRecord(), "NgayTiepNhan", "2026-13-45"), `NgayTiepNhan "2026-13-45": not yyyyMMddHHmmss`},
		{"impossible date", httpxtest.With(fullRecord(), "NgayHenTra", "20261345000000"), `NgayHenTra "20261345000000": not yyyyMMddHHmmss`},
		{"status too high", httpxtest.With(fullRecord(), "TrangThaiHoSo", 11), "TrangThaiHoSo 11: not a status 1–10"},
		{"status zero", httpxtest.With(fullRecord(), "TrangThaiHoSo", 0), "TrangThaiHoSo 0: not a status 1–10"},
		{"status not a number", httpxtest.With(fullRecord(), "TrangThaiHoSo", "xong"), `TrangThaiHoSo "xong": not a number`},
		{"status missing", httpxtest.With(fullRecord(), "TrangThaiHoSo", nil), "TrangThaiHoSo missing"},
		{"bad step date", httpxtest.With(fullRecord(), "QuaTrinhXuLy", []any{steps[0], badStep}),
			`NgayBatDau "2026-11-01": not yyyyMMddHHmmss (QuaTrinhXuLy 2)`},
		{"several problems", httpxtest.With(fullRecord(), "TrangThaiHoSo", 12, "NgayTra", "x"),
			`NgayTra "x": not yyyyMMddHHmmss; TrangThaiHoSo 12: not a status 1–10`},
		// A personal field of the wrong shape is named, its value never quoted.
		{"applicant name not a string", httpxtest.With(fullRecord(), "ChuHoSo", map[string]any{"ho": "Nguyễn"}), "ChuHoSo: not a string"},
		{"list of the wrong shape", httpxtest.With(fullRecord(), "DanhSachXinLoi", "none"),
			"DanhSachXinLoi: a JSON string where []dvcqg.apology was expected"},
		{"not an object", []any{1, 2}, "record: not valid JSON: json: cannot unmarshal array into Go value of type dvcqg.record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := dvcqg.Decode("dvcqg", httpxtest.JSON(t, tt.rec))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}
