package onestop_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/connectors/httpx/httpxtest"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/sla"
)

func hcm(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, sla.Location())
}

// fullItem is an item with every field the API sends.
func fullItem() map[string]any {
	return map[string]any{
		"code": "000.00.31.H01-261101-0001", "receipt_no": "BN-0001",
		"procedure_code": "1.001234", "procedure_name": "Đăng ký khai sinh",
		"field_code": "HT", "field_name": "Hộ tịch", "agency_code": "000.00.31.H01",
		"channel": 1, "applicant_kind": 2,
		"applicant": map[string]any{"name": "Trần Thị Bình", "email": "binh.tran@example.vn",
			"phone": "0987654321", "id_number": "079188001234"},
		"submitted_at": "2026-11-01T08:00:00+07:00", "received_at": "2026-11-01T01:30:00Z",
		"due_at": "2026-11-04T17:00:00+07:00", "processed_at": nil, "returned_at": "", "refused_at": nil,
		"status": 5, "raw_status": "CHO_BO_SUNG", "paid_online": false, "has_digitized_parts": true,
		"updated_at": "2026-11-02T09:15:00.5+07:00",
		"steps": []any{map[string]any{"seq": 1, "department": "TN", "official": "cb.tiepnhan",
			"official_title": "Công chức", "content": "Tiếp nhận", "state": "done",
			"started_at": "2026-11-01T08:00:00+07:00", "due_at": "2026-11-01T17:00:00+07:00",
			"finished_at": "2026-11-01T08:30:00+07:00"}},
		"supplements": []any{map[string]any{"seq": 1, "requested_at": "2026-11-02T09:15:00+07:00",
			"returned_at": nil, "due_before": "2026-11-04T17:00:00+07:00", "due_after": nil}},
		"apologies": []any{map[string]any{"seq": 1, "issued_at": "2026-11-03T09:00:00+07:00",
			"new_due_at": "2026-11-06T17:00:00+07:00", "issued_by": "Chủ tịch UBND", "reason": "Chờ xác minh"}},
		"synced_to_dvcqg": true,
	}
}

func TestDecodeMapsEveryField(t *testing.T) {
	t.Parallel()
	got, synced, err := onestop.Decode("mot-cua", httpxtest.JSON(t, fullItem()))
	if err != nil {
		t.Fatal(err)
	}
	want := dvcwatch.Dossier{
		Key:       dvcwatch.DossierKey{Source: "mot-cua", Code: "000.00.31.H01-261101-0001"},
		ReceiptNo: "BN-0001", ProcedureCode: "1.001234", ProcedureName: "Đăng ký khai sinh",
		FieldCode: "HT", FieldName: "Hộ tịch", Agency: "000.00.31.H01",
		Channel: dvcwatch.ChannelInPerson, ApplicantKind: dvcwatch.ApplicantBusiness,
		Applicant: dvcwatch.Applicant{Name: "Trần Thị Bình", Email: "binh.tran@example.vn",
			Phone: "0987654321", IDNumber: "079188001234"},
		SubmittedAt: hcm(2026, 11, 1, 8, 0, 0), ReceivedAt: hcm(2026, 11, 1, 8, 30, 0),
		DueAt:  hcm(2026, 11, 4, 17, 0, 0),
		Status: dvcwatch.StatusAwaitingSupplement, RawStatus: "CHO_BO_SUNG",
		HasDigitizedParts: true,
		Steps: []dvcwatch.Step{{Seq: 1, Department: "TN", Official: "cb.tiepnhan", OfficialTitle: "Công chức",
			Content: "Tiếp nhận", State: "done", StartedAt: hcm(2026, 11, 1, 8, 0, 0),
			DueAt: hcm(2026, 11, 1, 17, 0, 0), FinishedAt: hcm(2026, 11, 1, 8, 30, 0)}},
		Supplements: []dvcwatch.Supplement{{Seq: 1, RequestedAt: hcm(2026, 11, 2, 9, 15, 0),
			DueBefore: hcm(2026, 11, 4, 17, 0, 0)}},
		Apologies: []dvcwatch.Apology{{Seq: 1, IssuedAt: hcm(2026, 11, 3, 9, 0, 0),
			NewDueAt: hcm(2026, 11, 6, 17, 0, 0), IssuedBy: "Chủ tịch UBND", Reason: "Chờ xác minh"}},
		SourceUpdatedAt: hcm(2026, 11, 2, 9, 15, 0).Add(500 * time.Millisecond),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode =\n%+v\nwant\n%+v", got, want)
	}
	if !synced {
		t.Error("synced_to_dvcqg lost")
	}
}

func TestDecodeSkipReasons(t *testing.T) {
	t.Parallel()
	steps := fullItem()["steps"].([]any)
	badStep := httpxtest.With(steps[0].(map[string]any), "due_at", "01/11/2026")
	tests := []struct {
		name string
		item any
		want string
	}{
		{"no code", httpxtest.With(fullItem(), "code", nil), "code missing"},
		{"bad time", httpxtest.With(fullItem(), "received_at", "2026-13-45"), `received_at "2026-13-45": not RFC 3339`},
		{"time without zone", httpxtest.With(fullItem(), "due_at", "2026-11-04T17:00:00"), `due_at "2026-11-04T17:00:00": not RFC 3339`},
		{"status too high", httpxtest.With(fullItem(), "status", 11), "status 11: not a status 1–10"},
		{"status zero", httpxtest.With(fullItem(), "status", 0), "status 0: not a status 1–10"},
		{"status missing", httpxtest.With(fullItem(), "status", nil), "status missing"},
		{"status as a string", httpxtest.With(fullItem(), "status", "4"), "status: a JSON string where int was expected"},
		{"bad step time", httpxtest.With(fullItem(), "steps", []any{badStep}), `steps.due_at "01/11/2026": not RFC 3339 (steps 1)`},
		// A personal field of the wrong type is named, its value never quoted.
		{"applicant phone as a number", httpxtest.With(fullItem(), "applicant", map[string]any{"phone": 987654321}),
			"applicant.phone: a JSON number where string was expected"},
		{"not an object", "x", "item: not valid JSON: json: cannot unmarshal string into Go value of type onestop.item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := onestop.Decode("mot-cua", httpxtest.JSON(t, tt.item))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestDecodeNumbersEntriesWithoutSeq(t *testing.T) {
	t.Parallel()
	it := httpxtest.With(fullItem(), "steps", []any{map[string]any{"content": "a"}, map[string]any{"content": "b"}})
	d, _, err := onestop.Decode("mot-cua", httpxtest.JSON(t, it))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Steps) != 2 || d.Steps[0].Seq != 1 || d.Steps[1].Seq != 2 {
		t.Errorf("steps = %+v", d.Steps)
	}
}
