package onestop

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Decode maps one dossier item of the one-stop API's JSON (an item of a page,
// the reply of a lookup, a line of the simulator's /sim/state) to a Dossier of
// the connector named source, and says whether the one-stop system reports it
// synced to the national portal. An item the sync must skip yields an error
// whose message is the reason, naming the field and its value.
func Decode(source string, data []byte) (d dvcwatch.Dossier, syncedToDVCQG bool, err error) {
	d, synced, reason := decode(source, data)
	if reason != "" {
		return dvcwatch.Dossier{}, false, errors.New(reason)
	}
	return d, synced, nil
}

// decode returns the dossier, or why it must be skipped; on a skip, the
// dossier's Key.Code and SourceUpdatedAt are set when they could be read.
func decode(source string, data []byte) (dvcwatch.Dossier, bool, string) {
	var it item
	if err := json.Unmarshal(data, &it); err != nil {
		var key struct {
			Code      string `json:"code"`
			UpdatedAt string `json:"updated_at"`
		}
		_ = json.Unmarshal(data, &key)
		d := dvcwatch.Dossier{Key: dvcwatch.DossierKey{Source: source, Code: strings.TrimSpace(key.Code)}}
		d.SourceUpdatedAt, _ = parseTime(key.UpdatedAt)
		return d, false, connectors.DecodeReason("item", err)
	}
	d, reason := it.dossier(source)
	return d, it.SyncedToDVCQG, reason
}

// item is a dossier as the one-stop API sends it; absent and null fields are
// zero.
type item struct {
	Code          string `json:"code"`
	ReceiptNo     string `json:"receipt_no"`
	ProcedureCode string `json:"procedure_code"`
	ProcedureName string `json:"procedure_name"`
	FieldCode     string `json:"field_code"`
	FieldName     string `json:"field_name"`
	AgencyCode    string `json:"agency_code"`
	Channel       int    `json:"channel"`
	ApplicantKind int    `json:"applicant_kind"`
	Applicant     struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Phone    string `json:"phone"`
		IDNumber string `json:"id_number"`
	} `json:"applicant"`
	SubmittedAt       string `json:"submitted_at"`
	ReceivedAt        string `json:"received_at"`
	DueAt             string `json:"due_at"`
	ProcessedAt       string `json:"processed_at"`
	ReturnedAt        string `json:"returned_at"`
	RefusedAt         string `json:"refused_at"`
	Status            *int   `json:"status"`
	RawStatus         string `json:"raw_status"`
	PaidOnline        bool   `json:"paid_online"`
	HasDigitizedParts bool   `json:"has_digitized_parts"`
	UpdatedAt         string `json:"updated_at"`
	Steps             []struct {
		Seq           int    `json:"seq"`
		Department    string `json:"department"`
		Official      string `json:"official"`
		OfficialTitle string `json:"official_title"`
		Content       string `json:"content"`
		State         string `json:"state"`
		StartedAt     string `json:"started_at"`
		DueAt         string `json:"due_at"`
		FinishedAt    string `json:"finished_at"`
	} `json:"steps"`
	Supplements []struct {
		Seq         int    `json:"seq"`
		RequestedAt string `json:"requested_at"`
		ReturnedAt  string `json:"returned_at"`
		DueBefore   string `json:"due_before"`
		DueAfter    string `json:"due_after"`
	} `json:"supplements"`
	Apologies []struct {
		Seq      int    `json:"seq"`
		IssuedAt string `json:"issued_at"`
		NewDueAt string `json:"new_due_at"`
		IssuedBy string `json:"issued_by"`
		Reason   string `json:"reason"`
	} `json:"apologies"`
	SyncedToDVCQG bool `json:"synced_to_dvcqg"`
}

func (it *item) dossier(source string) (dvcwatch.Dossier, string) {
	var c checker
	code := strings.TrimSpace(it.Code)
	if code == "" {
		c.Add("code missing")
	}
	d := dvcwatch.Dossier{
		Key:           dvcwatch.DossierKey{Source: source, Code: code},
		ReceiptNo:     it.ReceiptNo,
		ProcedureCode: it.ProcedureCode,
		ProcedureName: it.ProcedureName,
		FieldCode:     it.FieldCode,
		FieldName:     it.FieldName,
		Agency:        it.AgencyCode,
		Channel:       dvcwatch.Channel(it.Channel),
		ApplicantKind: dvcwatch.ApplicantKind(it.ApplicantKind),
		Applicant: dvcwatch.Applicant{
			Name:     it.Applicant.Name,
			Email:    it.Applicant.Email,
			Phone:    it.Applicant.Phone,
			IDNumber: it.Applicant.IDNumber,
		},
		SubmittedAt:       c.time("submitted_at", it.SubmittedAt),
		ReceivedAt:        c.time("received_at", it.ReceivedAt),
		DueAt:             c.time("due_at", it.DueAt),
		ProcessedAt:       c.time("processed_at", it.ProcessedAt),
		ReturnedAt:        c.time("returned_at", it.ReturnedAt),
		RefusedAt:         c.time("refused_at", it.RefusedAt),
		Status:            c.status(it.Status),
		RawStatus:         it.RawStatus,
		PaidOnline:        it.PaidOnline,
		HasDigitizedParts: it.HasDigitizedParts,
		SourceUpdatedAt:   c.time("updated_at", it.UpdatedAt),
	}
	for i, s := range it.Steps {
		c.Entry = fmt.Sprintf(" (steps %d)", i+1)
		d.Steps = append(d.Steps, dvcwatch.Step{
			Seq:           seq(s.Seq, i),
			Department:    s.Department,
			Official:      s.Official,
			OfficialTitle: s.OfficialTitle,
			Content:       s.Content,
			State:         s.State,
			StartedAt:     c.time("steps.started_at", s.StartedAt),
			DueAt:         c.time("steps.due_at", s.DueAt),
			FinishedAt:    c.time("steps.finished_at", s.FinishedAt),
		})
	}
	for i, s := range it.Supplements {
		c.Entry = fmt.Sprintf(" (supplements %d)", i+1)
		d.Supplements = append(d.Supplements, dvcwatch.Supplement{
			Seq:         seq(s.Seq, i),
			RequestedAt: c.time("supplements.requested_at", s.RequestedAt),
			ReturnedAt:  c.time("supplements.returned_at", s.ReturnedAt),
			DueBefore:   c.time("supplements.due_before", s.DueBefore),
			DueAfter:    c.time("supplements.due_after", s.DueAfter),
		})
	}
	for i, a := range it.Apologies {
		c.Entry = fmt.Sprintf(" (apologies %d)", i+1)
		d.Apologies = append(d.Apologies, dvcwatch.Apology{
			Seq:      seq(a.Seq, i),
			IssuedAt: c.time("apologies.issued_at", a.IssuedAt),
			NewDueAt: c.time("apologies.new_due_at", a.NewDueAt),
			IssuedBy: a.IssuedBy,
			Reason:   a.Reason,
		})
	}
	if reason := c.Reason(); reason != "" {
		return dvcwatch.Dossier{Key: d.Key, SourceUpdatedAt: d.SourceUpdatedAt}, reason
	}
	return d, ""
}

// seq is an entry's own sequence number, or its position when it has none.
func seq(given, i int) int {
	if given > 0 {
		return given
	}
	return i + 1
}

// parseTime reads an RFC 3339 time into Asia/Ho_Chi_Minh; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.In(sla.Location()), nil
}

// checker reads an item's times and status, collecting what is wrong with
// them (see connectors.Problems); values are quoted only when they are not
// personal data. Entry names the list entry read, e.g. " (steps 2)".
type checker struct{ connectors.Problems }

func (c *checker) time(field, s string) time.Time {
	t, err := parseTime(s)
	if err != nil {
		c.Add("%s %s: not RFC 3339", field, connectors.Quote(s))
	}
	return t
}

func (c *checker) status(s *int) dvcwatch.Status {
	switch {
	case s == nil:
		c.Add("status missing")
	case !dvcwatch.Status(*s).Valid():
		c.Add("status %d: not a status 1–10", *s)
	default:
		return dvcwatch.Status(*s)
	}
	return 0
}
