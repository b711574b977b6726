package admin_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// seedNames names the seeded agencies, departments and officials.
type seedNames struct{}

func (seedNames) AgencyName(code string) string { return "Cơ quan " + code }
func (seedNames) DepartmentName(agency, code string) string {
	return map[string]string{"TP": "Phòng Tư pháp", "KT": "Phòng Kinh tế", "VP": "Văn phòng"}[code]
}
func (seedNames) OfficialName(id string) string                   { return "Cán bộ " + id }
func (seedNames) Name(dvcwatch.TallyLevel, string, string) string { return "" }

// breachPage reads one page of GET /api/v1/breaches?query.
func (b *apiBundle) breachPage(t *testing.T, query string) admin.Page[admin.Breach] {
	t.Helper()
	var p admin.Page[admin.Breach]
	b.do(t, "GET", "/api/v1/breaches?"+query, "", apiBearer(apiViewerToken)).want(t, 200, "breaches?"+query).decode(t, &p)
	return p
}

// TestAPIBreachPages pages through the breaches on both engines while new
// ones that sort first arrive between pages, and checks the filters, the
// orders, the names and the refusals of bad parameters.
func TestAPIBreachPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		if err := storetest.SeedBreaches(ctx, db, base, 0, 230); err != nil {
			t.Fatal(err)
		}
		b := apiSetupWith(t, db, func(o *admin.Options) { o.Names = seedNames{} })

		for _, sort := range []string{"late", "due", "detected"} {
			q := url.Values{"sort": {sort}, "state": {"all"}, "limit": {"50"}}
			var ids []int64
			next := 500 + 100*slices.Index([]string{"late", "due", "detected"}, sort)
			first := 0
			for pages := 0; ; pages++ {
				p := b.breachPage(t, q.Encode())
				if pages == 0 {
					first = p.Total
					if first < 230 {
						t.Fatalf("sort %s: total %d, want 230 or more", sort, first)
					}
				}
				for _, x := range p.Items {
					ids = append(ids, x.ID)
				}
				if p.NextCursor == "" {
					break
				}
				// A breach that sorts ahead of every other, in each order.
				if err := storetest.SeedBreaches(ctx, db, base.AddDate(0, 0, -40), next, 1); err != nil {
					t.Fatal(err)
				}
				next++
				q.Set("cursor", p.NextCursor)
			}
			seen := map[int64]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("sort %s: breach %d on two pages", sort, id)
				}
				seen[id] = true
			}
			if len(ids) < first {
				t.Errorf("sort %s: %d breaches read, %d were there at the start", sort, len(ids), first)
			}
		}

		// Orders, over the breaches as the store holds them now.
		late := b.breachPage(t, "state=all&sort=late&limit=5").Items
		for i := 1; i < len(late); i++ {
			if late[i].DueAt == nil || late[i-1].DueAt.After(*late[i].DueAt) {
				t.Errorf("sort=late: %v before %v", late[i-1].DueAt, late[i].DueAt)
			}
		}
		detected := b.breachPage(t, "state=all&sort=detected&limit=5").Items
		for i := 1; i < len(detected); i++ {
			if detected[i-1].DetectedAt.Before(detected[i].DetectedAt) {
				t.Errorf("sort=detected: %v before %v", detected[i-1].DetectedAt, detected[i].DetectedAt)
			}
		}

		// Filters and the search, with the names.
		for _, c := range []struct {
			query string
			check func(x admin.Breach) bool
		}{
			{"kind=overdue", func(x admin.Breach) bool { return x.Kind == "overdue" && x.ResolvedAt == nil }},
			{"state=resolved", func(x admin.Breach) bool { return x.ResolvedAt != nil }},
			{"severity=critical&department=VP", func(x admin.Breach) bool { return x.Severity == "critical" && x.Department == "VP" }},
			{"agency=" + storetest.SeedAgencies[1] + "&official=tran.thi.binh", func(x admin.Breach) bool {
				return x.Agency == storetest.SeedAgencies[1] && x.Official == "tran.thi.binh" &&
					x.AgencyName == "Cơ quan "+storetest.SeedAgencies[1] && x.OfficialName == "Cán bộ tran.thi.binh"
			}},
			{"procedure=1.000002", func(x admin.Breach) bool { return x.Procedure == "1.000002" }},
			{"q=" + strings.ToLower(storetest.SeedCode(12)), func(x admin.Breach) bool { return x.Code == storetest.SeedCode(12) }},
			{"q=" + storetest.SeedReceipt(13), func(x admin.Breach) bool { return x.Code == storetest.SeedCode(13) }},
			{"silenced=no", func(x admin.Breach) bool { return !x.Silenced }},
		} {
			p := b.breachPage(t, c.query+"&limit=1000")
			if len(p.Items) == 0 || p.Total != len(p.Items) {
				t.Errorf("%s: %d items, total %d", c.query, len(p.Items), p.Total)
			}
			for _, x := range p.Items {
				if !c.check(x) {
					t.Errorf("%s: breach %+v does not match", c.query, x)
					break
				}
			}
		}
		if x := b.breachPage(t, "q="+storetest.SeedCode(12)).Items; len(x) == 1 && x[0].DepartmentName == "" {
			t.Errorf("no department name: %+v", x[0])
		}
		if p := b.breachPage(t, "silenced=yes"); p.Total != 0 || len(p.Items) != 0 {
			t.Errorf("silenced=yes without silences: %+v", p)
		}

		var d admin.Dashboard
		b.do(t, "GET", "/api/v1/dashboard", "", apiBearer(apiViewerToken)).want(t, 200, "dashboard").decode(t, &d)
		if len(d.AtRisk) == 0 || d.AtRisk[0].AgencyName != "Cơ quan "+d.AtRisk[0].Agency || d.AtRisk[0].DepartmentName == "" {
			t.Errorf("dashboard's departments at risk without their names: %+v", d.AtRisk)
		}

		for _, c := range []struct{ query, want string }{
			{"sort=oldest", `sort="oldest": want one of late, due, detected`},
			{"state=closed", `state="closed": want one of open, resolved, all`},
			{"silenced=maybe", `silenced="maybe": want one of yes, no`},
			{"severity=high", `severity="high": want one of info, warning, critical`},
			{"kind=late", `kind="late": want one of due_soon, overdue,`},
			{"limit=0", `limit="0": want a whole number from 1 to 1000`},
			{"cursor=abc", `cursor: not a cursor this list gave`},
			{"sorted=due", `unknown parameter sorted: want limit, cursor, sort,`},
		} {
			a := b.do(t, "GET", "/api/v1/breaches?"+c.query, "", apiBearer(apiViewerToken))
			if msg := a.errMessage(t); a.status != 400 || !strings.Contains(msg, c.want) {
				t.Errorf("%s: %d %q, want 400 with %q", c.query, a.status, msg, c.want)
			}
		}
		// A cursor of one order is refused by another.
		p := b.breachPage(t, "sort=due&limit=2")
		a := b.do(t, "GET", "/api/v1/breaches?sort=late&cursor="+url.QueryEscape(p.NextCursor), "", apiBearer(apiViewerToken))
		if a.status != 400 {
			t.Errorf("a due cursor with sort=late: %d %s", a.status, a.body)
		}
	})
}

// TestAPIEmailAndRunPages pages through the emails and the job runs.
func TestAPIEmailAndRunPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		for i := range 7 {
			if _, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: "k" + itoa(int64(i)), Kind: "alerts",
				Recipient: []string{"an", "binh"}[i%2], Email: "x@example.org", Subject: "s", Text: "t", HTML: "h"}, now); err != nil {
				t.Fatal(err)
			}
			if _, err := db.RecordJobRun(ctx, dvcwatch.JobRun{Job: "sync", StartedAt: now, FinishedAt: now,
				Status: []dvcwatch.RunStatus{dvcwatch.RunSucceeded, dvcwatch.RunFailed}[i%2], Error: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		b := apiSetupWith(t, db, func(o *admin.Options) { o.Names = seedNames{} })
		var ns admin.Page[admin.Notification]
		b.do(t, "GET", "/api/v1/notifications?limit=3&recipient=an", "", apiBearer(apiViewerToken)).want(t, 200, "emails").decode(t, &ns)
		if ns.Total != 4 || len(ns.Items) != 3 || ns.NextCursor == "" || ns.Items[0].RecipientName != "Cán bộ an" || ns.Items[0].HTML != "" {
			t.Errorf("emails to an: %+v", ns)
		}
		var rest admin.Page[admin.Notification]
		b.do(t, "GET", "/api/v1/notifications?limit=3&recipient=an&cursor="+url.QueryEscape(ns.NextCursor), "", apiBearer(apiViewerToken)).
			want(t, 200, "emails, page 2").decode(t, &rest)
		if len(rest.Items) != 1 || rest.NextCursor != "" || rest.Items[0].ID >= ns.Items[2].ID {
			t.Errorf("emails to an, page 2: %+v", rest)
		}
		var runs admin.Page[admin.JobRun]
		b.do(t, "GET", "/api/v1/jobs/runs?status=failed&limit=2", "", apiBearer(apiViewerToken)).want(t, 200, "runs").decode(t, &runs)
		if runs.Total != 3 || len(runs.Items) != 2 || runs.NextCursor == "" || runs.Items[0].Status != "failed" {
			t.Errorf("failed runs: %+v", runs)
		}
		for _, c := range []struct{ path, want string }{
			{"/api/v1/notifications?state=lost", `state="lost": want one of pending, sending, sent, failed`},
			{"/api/v1/notifications?kind=x", `kind="x": want one of alerts, summary, operator`},
			{"/api/v1/jobs/runs?status=ok", `status="ok": want one of succeeded, failed, skipped`},
			{"/api/v1/jobs/runs?cursor=zz", `cursor: not a cursor`},
		} {
			a := b.do(t, "GET", c.path, "", apiBearer(apiViewerToken))
			if msg := a.errMessage(t); a.status != 400 || !strings.Contains(msg, c.want) {
				t.Errorf("%s: %d %q, want 400 with %q", c.path, a.status, msg, c.want)
			}
		}
	})
}
