package admin_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// The dossier fixture: a commune's 5-working-day procedure, and a dossier
// received online on Thursday 23 April 2026 whose receipt gave no
// appointment, so that the computed legal due stands in: Tuesday 5 May, past
// the weekend, Hùng Kings' day (Sunday 26 April) and its compensatory Monday,
// 30 April, 1 May and the next weekend.
const (
	dossierAgency = "000.05.31.H99"
	dossierCode   = "000.05.31.H99-260423-0001"
	// The applicant's personal data, which no answer may show.
	dossierApplicant = "Nguyễn Thị Hoa"
	dossierPhone     = "0912 345 678"
	dossierEmail     = "hoa.nguyen@example.vn"
	dossierIDNumber  = "001190012345"
)

const dossierYAML = `
calendar:
  office_hours: ["07:30-11:30", "13:30-17:00"]
  cutoff: "17:00"
agencies:
  - code: "000.05.31.H99"
    name: UBND xã Hòa Bình
    departments:
      - {code: VHXH, name: Phòng Văn hóa – Xã hội, head: tran.thi.b}
      - {code: KT, name: Phòng Kinh tế, head: le.van.d}
    officials:
      - {id: nguyen.van.a, name: Nguyễn Văn A, email: nguyen.van.a@hoabinh.example, department: VHXH}
      - {id: tran.thi.b, name: Trần Thị B, email: tran.thi.b@hoabinh.example, role: department_head, department: VHXH}
      - {id: pham.van.c, name: Phạm Văn C, email: pham.van.c@hoabinh.example, department: KT}
      - {id: le.van.d, name: Lê Văn D, email: le.van.d@hoabinh.example, role: department_head, department: KT}
      - {id: van.phong, name: Văn phòng HĐND và UBND xã, email: vanphong@hoabinh.example, role: office}
procedures:
  - {code: "2.000488", name: "Chứng thực bản sao từ bản chính", limit: 5wd}
notify:
  office_hours_only: true
smtp:
  host: smtp.hoabinh.example
  from: canhbao@hoabinh.example
admin:
  tokens:
    - {name: vera, role: viewer, token: viewer-secret-0123456789}
`

// dossierServices builds, on db, what the worker builds from the fixture's
// configuration: the directory and the detector whose rules the page
// explains the due with.
func dossierServices(t *testing.T, db *store.DB) *worker.Services {
	t.Helper()
	cfg, err := config.Parse([]byte(dossierYAML), "dossier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := worker.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func dossierVN(m time.Month, d, h, min int) time.Time {
	return time.Date(2026, m, d, h, min, 0, 0, sla.Location())
}

// dossierSeed stores the fixture's dossier, received then taken in hand,
// and, with mirror, its copy on the national portal's mirror; runs detection on Thursday
// 7 May (overdue, no apology letter, step 2 overdue; the digests written),
// then again once an apology arrived late (no_apology resolved, late_apology
// new); the office acknowledges the overdue for pham.van.c, and a silence
// mutes the step's breach.
func dossierSeed(t *testing.T, db *store.DB, svc *worker.Services, mirror bool) {
	t.Helper()
	ctx := context.Background()
	key := dvcwatch.DossierKey{Source: "onestop", Code: dossierCode}
	d := dvcwatch.Dossier{
		Key: key, ReceiptNo: "BN-0423-01", ProcedureCode: "2.000488", ProcedureName: "Chứng thực bản sao từ bản chính",
		Agency: dossierAgency, Channel: dvcwatch.ChannelOnline, ApplicantKind: dvcwatch.ApplicantCitizen,
		Applicant:   dvcwatch.Applicant{Name: dossierApplicant, Phone: dossierPhone, Email: dossierEmail, IDNumber: dossierIDNumber},
		SubmittedAt: dossierVN(4, 23, 8, 15), ReceivedAt: dossierVN(4, 23, 9, 0),
		Status: dvcwatch.StatusReceived, RawStatus: "DA_TIEP_NHAN", SourceUpdatedAt: dossierVN(4, 23, 9, 0),
		Steps: []dvcwatch.Step{{Seq: 1, Official: "Nguyễn Văn A", OfficialTitle: "Công chức một cửa",
			Content:   "Tiếp nhận hồ sơ của bà " + dossierApplicant + ", điện thoại 0912345678",
			StartedAt: dossierVN(4, 23, 9, 0), FinishedAt: dossierVN(4, 23, 9, 0), DueAt: dossierVN(4, 23, 17, 0)}},
	}
	apply := func(source string, d dvcwatch.Dossier) {
		t.Helper()
		d.Key.Source = source
		if _, err := db.ApplyPage(ctx, store.Page{Source: source, Dossiers: []dvcwatch.Dossier{d}}); err != nil {
			t.Fatal(err)
		}
	}
	apply("onestop", d)
	d.Status, d.RawStatus, d.SourceUpdatedAt = dvcwatch.StatusInProgress, "DANG_XU_LY", dossierVN(4, 24, 8, 0)
	d.Steps = append(d.Steps, dvcwatch.Step{Seq: 2, Official: "pham.van.c", Department: "KT", Content: "Thẩm định",
		StartedAt: dossierVN(4, 24, 8, 0), FinishedAt: dossierVN(4, 24, 8, 0), DueAt: dossierVN(5, 4, 17, 0)})
	apply("onestop", d)
	if mirror {
		apply("dvcqg", d)
	}

	if _, err := svc.Detector.Run(ctx, detect.Options{Now: dossierVN(5, 7, 9, 0), Full: true}); err != nil {
		t.Fatal(err)
	}
	d.Apologies = []dvcwatch.Apology{{Seq: 1, IssuedAt: dossierVN(5, 7, 10, 0), NewDueAt: dossierVN(5, 12, 17, 0),
		IssuedBy: "Phạm Văn C", Reason: "Chờ xác minh với " + dossierApplicant}}
	d.SourceUpdatedAt = dossierVN(5, 7, 10, 0)
	apply("onestop", d)
	if _, err := svc.Detector.Run(ctx, detect.Options{Now: dossierVN(5, 7, 10, 30)}); err != nil {
		t.Fatal(err)
	}

	bs, err := db.Breaches(ctx, store.BreachFilter{Kind: dvcwatch.BreachOverdue})
	if err != nil || len(bs) == 0 {
		t.Fatalf("overdue breaches = %+v, %v", bs, err)
	}
	for _, b := range bs {
		if b.Key == key {
			if _, err := db.Acknowledge(ctx, b.ID, "pham.van.c", "Đang chờ kết quả xác minh", dossierVN(5, 7, 11, 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.AddSilence(ctx, dvcwatch.Silence{
		Matchers: []dvcwatch.Matcher{dvcwatch.NewMatcher(dvcwatch.LabelDossier, dossierCode), dvcwatch.NewMatcher(dvcwatch.LabelKind, "step_overdue")},
		StartsAt: time.Now().Add(-time.Hour), EndsAt: time.Now().Add(72 * time.Hour), Reason: "Chờ Sở Tư pháp trả lời",
		CreatedBy: "otto", CreatedAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
}

// dossierServer serves the API over db with the fixture's names and rules.
func dossierServer(t *testing.T, db *store.DB, svc *worker.Services, tokens []config.Token) string {
	t.Helper()
	h, err := admin.New(admin.Options{Tokens: tokens, Store: db, Logger: slog.New(slog.DiscardHandler),
		Clock: clock.Func(time.Now), Names: svc.Directory, Rules: svc.Detector.Rules})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// noPersonalData fails the test if an answer holds the applicant's raw name,
// phone (as written or as digits), email or ID number.
func noPersonalData(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, raw := range []string{dossierApplicant, dossierPhone, strings.ReplaceAll(dossierPhone, " ", ""), dossierEmail, dossierIDNumber} {
		if strings.Contains(strings.ToLower(string(body)), strings.ToLower(raw)) {
			t.Errorf("%s shows the applicant's %q:\n%s", what, raw, body)
		}
	}
}

// TestAPIDossier: the dossier page's answer on each engine: facts with the
// applicant masked, history, steps as the rules read them, the due and how
// it was computed, breaches with their silence and acknowledgements, the
// emails; the search by code in every source; a missing dossier's 404.
func TestAPIDossier(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := dossierServices(t, db)
		dossierSeed(t, db, svc, true)
		b := &apiBundle{url: dossierServer(t, db, svc, apiTokens)}
		viewer := apiBearer(apiViewerToken)

		a := b.do(t, "GET", "/api/v1/dossiers/onestop/"+pathEscape(dossierCode), "", viewer).want(t, http.StatusOK, "the dossier")
		noPersonalData(t, "the dossier page", a.body)
		var p admin.DossierPage
		a.decode(t, &p)

		if p.Source != "onestop" || p.Code != dossierCode || p.Procedure != (admin.Named{Code: "2.000488", Name: "Chứng thực bản sao từ bản chính"}) ||
			p.Agency != (admin.Named{Code: dossierAgency, Name: "UBND xã Hòa Bình"}) || p.Channel.Label != "Trực tuyến" ||
			p.ApplicantKind.Label != "Công dân" || p.ReceiptNo != "BN-0423-01" {
			t.Errorf("facts: %+v", p)
		}
		if p.Applicant != (admin.Applicant{Name: "N. T. H.", Phone: "*******678"}) {
			t.Errorf("applicant %+v, want masked as the mails mask it", p.Applicant)
		}
		if p.Status != (admin.StatusView{Code: 4, Name: "in_progress", Label: "Đang xử lý", Raw: "DANG_XU_LY"}) {
			t.Errorf("status %+v", p.Status)
		}
		if p.Dates.Received == nil || p.Dates.Received.Format(time.RFC3339) != "2026-04-23T09:00:00+07:00" || p.Dates.Due != nil {
			t.Errorf("dates %+v: want the receipt in Vietnam's time, and no appointment", p.Dates)
		}
		if len(p.History) != 2 || p.History[0].From != nil || p.History[0].To.Code != 2 || p.History[1].From.Code != 2 || p.History[1].To.Code != 4 {
			t.Errorf("history %+v", p.History)
		}
		if len(p.OtherSources) != 1 || p.OtherSources[0] != "dvcqg" {
			t.Errorf("other sources %v, want the mirror", p.OtherSources)
		}

		// Steps as the rules read them: the desk's official named by
		// display name, then pham.van.c's step in progress.
		if len(p.Steps) != 2 {
			t.Fatalf("steps %+v", p.Steps)
		}
		if s := p.Steps[0]; s.Official != (admin.Person{ID: "nguyen.van.a", Name: "Nguyễn Văn A"}) ||
			s.Department != (admin.Named{Code: "VHXH", Name: "Phòng Văn hóa – Xã hội"}) || s.InProgress ||
			s.EndedAt == nil || !s.EndedAt.Equal(dossierVN(4, 24, 8, 0)) || len(s.Updates) != 1 ||
			!strings.HasPrefix(s.Updates[0].Content, "Tiếp nhận hồ sơ của bà N. T. H., điện thoại *******678") {
			t.Errorf("step 1 %+v", s)
		}
		if s := p.Steps[1]; s.Official != (admin.Person{ID: "pham.van.c", Name: "Phạm Văn C"}) ||
			s.Department != (admin.Named{Code: "KT", Name: "Phòng Kinh tế"}) || !s.InProgress || s.EndedAt != nil ||
			s.DueAt == nil || !s.DueAt.Equal(dossierVN(5, 4, 17, 0)) {
			t.Errorf("step 2 %+v", s)
		}
		if len(p.Apologies) != 1 || p.Apologies[0].Reason != "Chờ xác minh với N. T. H." {
			t.Errorf("apologies %+v", p.Apologies)
		}

		// The due: the computed legal due stands in, with the days skipped.
		due := p.Due
		if due == nil {
			t.Fatalf("no due: %s", p.DueError)
		}
		if due.Basis != "computed" || due.DueAt == nil || due.DueAt.Format(time.RFC3339) != "2026-05-05T17:00:00+07:00" ||
			due.ComparedBy != "date" || due.Limit != "5wd" || len(due.Moves) != 1 || due.Moves[0].Kind != "computed" {
			t.Errorf("due %+v", due)
		}
		c := due.Legal
		if c == nil || c.Counting != "dates" || c.ReceiptDay != "2026-04-23" || c.FirstDay != "2026-04-24" || c.LastDay != "2026-05-05" ||
			c.Days != 5 || c.Cutoff != "17:00" || strings.Join(c.OfficeHours, ", ") != "07:30-11:30, 13:30-17:00" {
			t.Fatalf("legal due %+v", c)
		}
		var skipped []string
		for _, s := range c.Skipped {
			skipped = append(skipped, s.Date+" "+s.Kind)
		}
		if got, want := strings.Join(skipped, ", "), "2026-04-25 weekend, 2026-04-26 weekend, 2026-04-27 compensatory, "+
			"2026-04-30 holiday, 2026-05-01 holiday, 2026-05-02 weekend, 2026-05-03 weekend"; got != want {
			t.Errorf("skipped:\n got %s\nwant %s", got, want)
		}
		if !strings.Contains(c.Skipped[2].Name, "Giỗ Tổ Hùng Vương") || !strings.Contains(c.Skipped[3].Name, "Chiến thắng") {
			t.Errorf("skipped days named %q, %q", c.Skipped[2].Name, c.Skipped[3].Name)
		}

		// Breaches: open and resolved, the silence muting one, the
		// acknowledgement of another.
		kinds := map[string]admin.DossierBreach{}
		for _, br := range p.Breaches {
			kinds[br.Kind] = br
		}
		if br := kinds["overdue"]; br.ResolvedAt != nil || len(br.Acks) != 1 ||
			br.Acks[0].Official != (admin.Person{ID: "pham.van.c", Name: "Phạm Văn C"}) || br.Acks[0].Reason != "Đang chờ kết quả xác minh" ||
			br.Official.Name != "Phạm Văn C" || br.Department.Name != "Phòng Kinh tế" || br.Silence != nil || br.Label != "Quá hạn" {
			t.Errorf("overdue %+v", br)
		}
		if br := kinds["no_apology"]; br.ResolvedAt == nil || br.ResolvedReason != "ended" {
			t.Errorf("no_apology %+v, want resolved once the apology came", br)
		}
		if br := kinds["late_apology"]; br.ID == 0 || br.ResolvedAt != nil {
			t.Errorf("late_apology %+v", br)
		}
		if br := kinds["step_overdue"]; br.Step != 2 || br.Silence == nil || br.Silence.Reason != "Chờ Sở Tư pháp trả lời" || !br.Silence.Active {
			t.Errorf("step_overdue %+v, want step 2 muted by the silence", br)
		}

		// Every email that told of its breaches, with the recipient's name.
		if len(p.Emails) == 0 {
			t.Fatal("no email told of the dossier")
		}
		recipients := map[string]bool{}
		for _, e := range p.Emails {
			recipients[e.Recipient.ID] = true
			if e.Recipient.Name == e.Recipient.ID || e.Kind != "alerts" || e.State != "pending" || len(e.Breaches) == 0 || e.Subject == "" {
				t.Errorf("email %+v", e)
			}
		}
		for _, who := range []string{"pham.van.c", "le.van.d", "van.phong"} {
			if !recipients[who] {
				t.Errorf("no email to %s among %v", who, recipients)
			}
		}

		// Found by its code in every source, typed in lower case too.
		for _, code := range []string{dossierCode, strings.ToLower(dossierCode), " " + dossierCode + " "} {
			a := b.do(t, "GET", "/api/v1/dossiers?code="+strings.ReplaceAll(code, " ", "+"), "", viewer).want(t, http.StatusOK, "search "+code)
			noPersonalData(t, "the search", a.body)
			var found []admin.DossierMatch
			a.decode(t, &found)
			if len(found) != 2 || found[0].Source != "dvcqg" || found[1].Source != "onestop" || found[1].Agency.Name != "UBND xã Hòa Bình" ||
				found[1].Status.Code != 4 {
				t.Errorf("search %q: %+v", code, found)
			}
		}
		a = b.do(t, "GET", "/api/v1/dossiers?code=KHONG-CO", "", viewer).want(t, http.StatusOK, "search for nothing")
		if strings.TrimSpace(string(a.body)) != "[]" {
			t.Errorf("search for nothing: %s", a.body)
		}
		if got := b.do(t, "GET", "/api/v1/dossiers?code=", "", viewer).want(t, http.StatusBadRequest, "search without a code").errMessage(t); got != "code: required, a dossier code (MaHoSo)" {
			t.Errorf("search without a code: %q", got)
		}

		// Not found: what was asked, and where the code is.
		for path, want := range map[string]string{
			"/api/v1/dossiers/onestop/KHONG-CO": `dossier onestop/KHONG-CO not found: no dossier with code "KHONG-CO" from source "onestop"`,
			"/api/v1/dossiers/portal/" + pathEscape(dossierCode): `dossier portal/` + dossierCode + ` not found: no dossier with code "` +
				dossierCode + `" from source "portal"; found: dvcqg/` + dossierCode + `, onestop/` + dossierCode,
		} {
			if got := b.do(t, "GET", path, "", viewer).want(t, http.StatusNotFound, path).errMessage(t); got != want {
				t.Errorf("%s: %q, want %q", path, got, want)
			}
		}
	})
}

// TestAPIDossierWithoutRules: a server without rules still shows the
// dossier, and says why its due is not explained.
func TestAPIDossierWithoutRules(t *testing.T) {
	b := apiSetup(t)
	b.breach(t)
	a := b.do(t, "GET", "/api/v1/dossiers/onestop/HS-001", "", apiBearer(apiViewerToken)).want(t, http.StatusOK, "the dossier")
	var p map[string]json.RawMessage
	a.decode(t, &p)
	if _, ok := p["due"]; ok || string(p["due_error"]) != `"this server has no rules to explain the due with"` {
		t.Errorf("due %s, due_error %s", p["due"], p["due_error"])
	}
	var bs []admin.DossierBreach
	if err := json.Unmarshal(p["breaches"], &bs); err != nil || len(bs) != 1 || bs[0].Official.Name != "binh" {
		t.Errorf("breaches %s: %v", p["breaches"], err)
	}
}
