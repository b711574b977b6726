package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/admin"
)

// TestAPISilences: an operator silences a dossier by its code (typed in
// lower case); the breach is listed as silenced by it; once it is expired,
// the breach is not, and expiring it again is refused.
func TestAPISilences(t *testing.T) {
	b := apiSetup(t)
	id := b.breach(t) // overdue, dossier HS-001 of UBND-XA-01, official binh
	const reason = "Công dân Nguyễn Văn A xin hoãn, chờ giấy tờ"

	var s admin.Silence
	b.do(t, "POST", "/api/v1/silences", `{"matchers":{"dossier":" hs-001 ","kind":"overdue"},"duration":"3d","reason":"`+reason+`"}`,
		apiBearer(apiOperatorToken)).want(t, 201, "add a silence").decode(t, &s)
	now := b.clock.now()
	if s.ID == 0 || len(s.Matchers) != 2 || s.Matchers["dossier"] != "hs-001" || s.Matchers["kind"] != "overdue" ||
		s.CreatedBy != "otto" || s.Reason != reason || !s.Active || s.ExpiredBy != "" ||
		s.EndsAt.Sub(s.StartsAt) != 72*time.Hour || now.Sub(s.StartsAt) > time.Minute || s.StartsAt.After(now) {
		t.Errorf("silence added: %+v", s)
	}
	if strings.Contains(b.log.String(), "Nguyễn Văn A") {
		t.Errorf("the log shows the silence's reason:\n%s", b.log.String())
	}

	var page admin.Page[admin.Breach]
	b.do(t, "GET", "/api/v1/breaches", "", apiBearer(apiViewerToken)).want(t, 200, "breaches").decode(t, &page)
	bs := page.Items
	if len(bs) != 1 || bs[0].ID != id || !bs[0].Silenced || bs[0].SilenceID != s.ID {
		t.Errorf("breaches under the silence: %+v; want breach %d silenced by %d", bs, id, s.ID)
	}
	var ss []admin.Silence
	b.do(t, "GET", "/api/v1/silences", "", apiBearer(apiViewerToken)).want(t, 200, "active silences").decode(t, &ss)
	if len(ss) != 1 || ss[0].ID != s.ID {
		t.Errorf("active silences: %+v", ss)
	}
	var got admin.Silence
	b.do(t, "GET", "/api/v1/silences/"+itoa(s.ID), "", apiBearer(apiViewerToken)).want(t, 200, "one silence").decode(t, &got)
	if got.ID != s.ID || got.Reason != reason || !got.Active {
		t.Errorf("silence %d: %+v", s.ID, got)
	}

	var ended admin.Silence
	b.do(t, "POST", "/api/v1/silences/"+itoa(s.ID)+"/expire", "", apiBearer(apiOperatorToken)).want(t, 200, "expire").decode(t, &ended)
	if ended.Active || ended.ExpiredBy != "otto" || ended.CreatedBy != "otto" || ended.EndsAt.After(b.clock.now()) {
		t.Errorf("silence expired: %+v", ended)
	}
	page = admin.Page[admin.Breach]{} // decoding into the old elements would keep their silence_id
	b.do(t, "GET", "/api/v1/breaches", "", apiBearer(apiViewerToken)).want(t, 200, "breaches").decode(t, &page)
	bs = page.Items
	if len(bs) != 1 || bs[0].Silenced || bs[0].SilenceID != 0 {
		t.Errorf("breaches after the expiry: %+v; want none silenced", bs)
	}
	b.do(t, "GET", "/api/v1/silences", "", apiBearer(apiViewerToken)).want(t, 200, "active silences").decode(t, &ss)
	if len(ss) != 0 {
		t.Errorf("active silences after the expiry: %+v", ss)
	}
	b.do(t, "GET", "/api/v1/silences?all=1", "", apiBearer(apiViewerToken)).want(t, 200, "all silences").decode(t, &ss)
	if len(ss) != 1 || ss[0].ID != s.ID || ss[0].Active {
		t.Errorf("all silences: %+v; want the expired one, kept", ss)
	}
	a := b.do(t, "POST", "/api/v1/silences/"+itoa(s.ID)+"/expire", "", apiBearer(apiOperatorToken)).want(t, 409, "expire again")
	if msg := a.errMessage(t); !strings.HasPrefix(msg, "silence "+itoa(s.ID)+": ended already, at ") || !strings.HasSuffix(msg, "+07:00") {
		t.Errorf("expire again: %q", msg)
	}
	b.do(t, "POST", "/api/v1/silences/999/expire", "", apiBearer(apiOperatorToken)).want(t, 404, "expire an unknown silence")
	b.do(t, "POST", "/api/v1/silences/x/expire", "", apiBearer(apiOperatorToken)).want(t, 400, "expire a bad id")
	b.do(t, "GET", "/api/v1/silences/999", "", apiBearer(apiViewerToken)).want(t, 404, "an unknown silence")
	b.do(t, "GET", "/api/v1/silences?limit=0", "", apiBearer(apiViewerToken)).want(t, 400, "a bad limit")

	// An end time rather than a duration; the silence's end, as given.
	end := b.clock.now().Add(48 * time.Hour).Truncate(time.Second).In(time.FixedZone("ICT", 7*3600))
	b.do(t, "POST", "/api/v1/silences", `{"matchers":{"agency":"UBND-XA-01"},"ends_at":"`+end.Format(time.RFC3339)+`","reason":"r"}`,
		apiBearer(apiAdminToken)).want(t, 201, "add a silence until a time").decode(t, &s)
	if !s.EndsAt.Equal(end) || s.CreatedBy != "ada" {
		t.Errorf("silence until %s: %+v", end, s)
	}
}

// TestAPISilenceValidation: each wrong request is refused with 400 and a
// message naming what is wrong, and nothing is recorded.
func TestAPISilenceValidation(t *testing.T) {
	b := apiSetup(t)
	const kinds = "due_soon, overdue, finished_late, no_apology, late_apology, new_date_missed, rescheduled_twice, " +
		"supplemented_twice, late_supplement_request, step_overdue, due_beyond_limit, refused_late, not_received, not_synced, portal_mismatch"
	const labels = "kind, agency, department, official, procedure, dossier"
	ok := `"matchers":{"kind":"portal_mismatch"},"duration":"72h","reason":"bảo trì"`
	for _, c := range []struct {
		body, want string
	}{
		{`{` + ok + `,"until":"tomorrow"}`, `request body: json: unknown field "until"`},
		{`{"matchers":{"kind":"portal_mismatch"},"reason":"r"}`, `ends_at or duration: one is required (e.g. "duration": "72h")`},
		{`{` + ok + `,"ends_at":"2030-01-01T00:00:00+07:00"}`, `ends_at and duration: give one, not both`},
		{`{"matchers":{"kind":"overdue"},"ends_at":"2030-01-01 08:00","reason":"r"}`,
			`ends_at "2030-01-01 08:00": want an RFC 3339 time, e.g. 2026-03-05T17:00:00+07:00`},
		{`{"matchers":{"kind":"overdue"},"ends_at":"2020-01-01T08:00:00+07:00","reason":"r"}`, `ends_at 2020-01-01T08:00:00+07:00: not in the future`},
		{`{"matchers":{"kind":"overdue"},"duration":"3x","reason":"r"}`, `duration "3x": want a positive duration, e.g. 90m, 72h, 3d or 1w`},
		{`{"matchers":{"kind":"overdue"},"duration":"0","reason":"r"}`, `duration "0": want a positive duration, e.g. 90m, 72h, 3d or 1w`},
		{`{"matchers":{},"duration":"72h","reason":"r"}`, `matchers: at least one is required (` + labels + `)`},
		{`{"duration":"72h","reason":"r"}`, `matchers: at least one is required (` + labels + `)`},
		{`{"matchers":{"agncy":"UBND-XA-01"},"duration":"72h","reason":"r"}`, `matchers.agncy: unknown label (want one of ` + labels + `)`},
		{`{"matchers":{"kind":"late"},"duration":"72h","reason":"r"}`, `matchers.kind: unknown breach kind "late" (want one of ` + kinds + `)`},
		{`{"matchers":{"kind":"overdue","agency":" "},"duration":"72h","reason":"r"}`, `matchers.agency: empty value`},
		{`{"matchers":{"kind":"overdue"},"duration":"72h","reason":"  "}`, `reason: required`},
		{`{"matchers":{"zone":"x","kind":"late"},"duration":"72h"}`, `matchers.kind: unknown breach kind "late" (want one of ` + kinds +
			`); matchers.zone: unknown label (want one of ` + labels + `); reason: required`},
	} {
		a := b.do(t, "POST", "/api/v1/silences", c.body, apiBearer(apiOperatorToken))
		if a.status != 400 || a.errMessage(t) != c.want {
			t.Errorf("POST %s: %d %s\nwant 400 %q", c.body, a.status, a.body, c.want)
		}
	}
	var ss []admin.Silence
	b.do(t, "GET", "/api/v1/silences?all=1", "", apiBearer(apiViewerToken)).want(t, 200, "silences").decode(t, &ss)
	if len(ss) != 0 {
		t.Errorf("refused requests recorded silences: %+v", ss)
	}
}
