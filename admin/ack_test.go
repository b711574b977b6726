package admin_test

// The acknowledge page's tests run the real server over a real store, on
// SQLite and on PostgreSQL; the breaches and the alerts that told officials
// of them are recorded as detection records them. Helpers are prefixed ack.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/internal/logbuf"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

var _ admin.AckStore = (*store.DB)(nil)

const (
	ackBase     = "https://canhbao.x.example"
	ackValidFor = 7 * 24 * time.Hour
)

var (
	ackKey    = []byte("ack-page-test-key-0123456789abcdef")
	ackMailed = time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC) // 09:00 in Hanoi, when the digest was composed
	// ackPeople are the configured officials; "ghost" is not one.
	ackPeople = map[string]dvcwatch.Official{
		"binh": {ID: "binh", Name: "Nguyễn Thị Bình", Role: dvcwatch.RoleOfficial},
		"lan":  {ID: "lan", Name: "Trần Văn Lân", Role: dvcwatch.RoleDepartmentHead},
	}
)

// ackBundle is a running server with two dossiers: HS-001's overdue breach
// and missing apology, both told to binh; HS-002's overdue breach, told to
// lan only.
type ackBundle struct {
	url     string
	db      *store.DB
	links   *acklink.Links
	log     *logbuf.Buffer
	tokens  []string // every token handed out, looked for in the log
	mu      sync.Mutex
	now     time.Time
	overdue dvcwatch.StoredBreach
	apology dvcwatch.StoredBreach
	other   dvcwatch.StoredBreach
}

func (b *ackBundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *ackBundle) setNow(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = t
}

func ackSetup(t *testing.T, db *store.DB, edit ...func(*admin.Options)) *ackBundle {
	t.Helper()
	ctx := context.Background()
	links, err := acklink.NewLinks(ackBase, ackKey, ackValidFor)
	if err != nil {
		t.Fatal(err)
	}
	b := &ackBundle{db: db, links: links, log: &logbuf.Buffer{}, now: ackMailed.Add(time.Hour)}

	received := time.Date(2026, 2, 23, 2, 0, 0, 0, time.UTC)
	var ds []dvcwatch.Dossier
	for _, code := range []string{"HS-001", "HS-002"} {
		ds = append(ds, dvcwatch.Dossier{Key: dvcwatch.DossierKey{Source: "onestop", Code: code}, ProcedureName: "Đăng ký khai sinh",
			Agency: "UBND-XA-01", Status: dvcwatch.StatusInProgress, RawStatus: "4", ReceivedAt: received,
			DueAt: received.AddDate(0, 0, 5), SourceUpdatedAt: received,
			Applicant: dvcwatch.Applicant{Name: "Lê Văn Công Dân", Phone: "0912345678"}})
	}
	if _, err := db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: ds}); err != nil {
		t.Fatal(err)
	}
	ackDetect(t, db, ackMailed.Add(-time.Hour), dvcwatch.SeverityWarning, true, true)
	for _, br := range ackBreaches(t, db) {
		switch {
		case br.Key.Code == "HS-002":
			b.other = br
		case br.Kind == dvcwatch.BreachOverdue:
			b.overdue = br
		default:
			b.apology = br
		}
	}

	logger := slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := admin.Options{Tokens: apiTokens, Logger: logger, Clock: clock.Func(time.Now),
		Ack: admin.AckPage{Links: links, Store: db, Clock: clock.Func(b.clock), Person: func(id string) (dvcwatch.Official, bool) {
			p, ok := ackPeople[id]
			return p, ok
		}}}
	for _, e := range edit {
		e(&opts)
	}
	h, err := admin.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	t.Cleanup(func() {
		for _, tok := range b.tokens {
			if strings.Contains(b.log.String(), tok) {
				t.Errorf("the server's log shows an acknowledge token:\n%s", b.log.String())
			}
		}
		if t.Failed() {
			t.Logf("server log:\n%s", b.log.String())
		}
	})
	return b
}

// ackDetect records a detection pass at now: HS-001 overdue at overdueSev
// (if overdue) and missing its apology (if apology), HS-002 overdue; binh
// is told of HS-001's breaches, lan of HS-002's.
func ackDetect(t *testing.T, db *store.DB, now time.Time, overdueSev dvcwatch.Severity, overdue, apology bool) {
	t.Helper()
	due := time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC)
	br := func(kind dvcwatch.BreachKind, code, official string, sev dvcwatch.Severity) dvcwatch.Breach {
		return dvcwatch.Breach{Kind: kind, Key: dvcwatch.DossierKey{Source: "onestop", Code: code}, Official: official,
			Department: "TP", Severity: sev, StartedAt: due, DueAt: due, Detail: "quá hạn"}
	}
	var first []dvcwatch.Breach
	if overdue {
		first = append(first, br(dvcwatch.BreachOverdue, "HS-001", "binh", overdueSev))
	}
	if apology {
		first = append(first, br(dvcwatch.BreachNoApology, "HS-001", "binh", dvcwatch.SeverityWarning))
	}
	plan := func(_ time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
		var out []dvcwatch.AlertIntent
		for _, s := range open {
			if told, ok := s.Told[s.Official]; !ok || told.Severity != s.Severity {
				out = append(out, dvcwatch.AlertIntent{BreachID: s.ID, Recipient: s.Official, Role: dvcwatch.RoleOfficial,
					Severity: s.Severity, Reason: dvcwatch.AlertNew})
			}
		}
		return out
	}
	_, err := detect.RecordPage(context.Background(), detect.TxOf(db.InTx), detect.Page{Now: now, Plan: plan,
		Dossiers: []dvcwatch.Evaluation{
			{Key: dvcwatch.DossierKey{Source: "onestop", Code: "HS-001"}, Agency: "UBND-XA-01", Open: true, Breaches: first},
			{Key: dvcwatch.DossierKey{Source: "onestop", Code: "HS-002"}, Agency: "UBND-XA-01", Open: true,
				Breaches: []dvcwatch.Breach{br(dvcwatch.BreachOverdue, "HS-002", "lan", dvcwatch.SeverityWarning)}},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func ackBreaches(t *testing.T, db *store.DB) []dvcwatch.StoredBreach {
	t.Helper()
	bs, err := db.Breaches(context.Background(), store.BreachFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func ref(b dvcwatch.StoredBreach) dvcwatch.BreachRef {
	return dvcwatch.BreachRef{ID: b.ID, Severity: b.Severity}
}

// link returns the path of recipient's link to refs, mailed at ackMailed.
func (b *ackBundle) link(t *testing.T, recipient string, refs ...dvcwatch.BreachRef) string {
	t.Helper()
	l := b.links.Link(recipient, refs, ackMailed)
	token, ok := strings.CutPrefix(l, ackBase+acklink.Path)
	if !ok {
		t.Fatalf("link %q is not under %s%s", l, ackBase, acklink.Path)
	}
	b.tokens = append(b.tokens, token)
	return acklink.Path + token
}

// ackAnswer is a page as served.
type ackAnswer struct {
	status int
	header http.Header
	body   string
}

var ackPageAttr = regexp.MustCompile(`<main data-page="([a-z]+)">`)

// page is the name of the page served (data-page).
func (a ackAnswer) page() string {
	if m := ackPageAttr.FindStringSubmatch(a.body); m != nil {
		return m[1]
	}
	return ""
}

func (a ackAnswer) want(t *testing.T, status int, page string, texts ...string) {
	t.Helper()
	if a.status != status || a.page() != page {
		t.Fatalf("got %d page %q, want %d page %q:\n%s", a.status, a.page(), status, page, a.body)
	}
	for _, s := range texts {
		if !strings.Contains(a.body, s) {
			t.Errorf("page %s does not say %q:\n%s", page, s, a.body)
		}
	}
}

func (b *ackBundle) request(t *testing.T, method, path string, form url.Values, header map[string]string) ackAnswer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return ackAnswer{status: res.StatusCode, header: res.Header, body: string(data)}
}

func (b *ackBundle) get(t *testing.T, path string) ackAnswer {
	t.Helper()
	return b.request(t, http.MethodGet, path, nil, nil)
}

func (b *ackBundle) post(t *testing.T, path, reason string) ackAnswer {
	t.Helper()
	return b.request(t, http.MethodPost, path, url.Values{"reason": {reason}}, nil)
}

// state is everything acknowledging could change: every breach as each
// official stands with it.
func (b *ackBundle) state(t *testing.T) map[string][]dvcwatch.RecipientBreach {
	t.Helper()
	ids := []int64{b.overdue.ID, b.apology.ID, b.other.ID}
	out := map[string][]dvcwatch.RecipientBreach{}
	for _, who := range []string{"binh", "lan", "ghost"} {
		rbs, err := b.db.RecipientBreaches(context.Background(), who, ids)
		if err != nil {
			t.Fatal(err)
		}
		out[who] = rbs
	}
	return out
}

func (b *ackBundle) unchanged(t *testing.T, before map[string][]dvcwatch.RecipientBreach, what string) {
	t.Helper()
	if after := b.state(t); !reflect.DeepEqual(after, before) {
		t.Errorf("%s changed the store:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// ack returns official's acknowledgement of breach id.
func (b *ackBundle) ack(t *testing.T, official string, id int64) dvcwatch.Ack {
	t.Helper()
	rbs, err := b.db.RecipientBreaches(context.Background(), official, []int64{id})
	if err != nil || len(rbs) != 1 {
		t.Fatalf("breach %d: %v, %v", id, rbs, err)
	}
	return rbs[0].Ack
}

// TestAckPageConfirm: the page shows the row and changes nothing; its form
// records both acknowledgements for binh at the severity mailed; the link
// used again shows when, and changes nothing.
func TestAckPageConfirm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := ackSetup(t, db)
		path := b.link(t, "binh", ref(b.overdue), ref(b.apology))
		before := b.state(t)

		for range 2 { // a mail scanner opens it first
			b.get(t, path).want(t, http.StatusOK, "confirm", "Nguyễn Thị Bình", "HS-001", "Quá hạn", "Trễ hạn chưa có văn bản xin lỗi",
				"Cảnh báo", `<form method="post">`, `name="reason"`)
			b.request(t, http.MethodHead, path, nil, nil)
		}
		b.unchanged(t, before, "GET")
		if strings.Contains(b.get(t, path).body, "Lê Văn Công Dân") {
			t.Error("the page shows the applicant's name")
		}

		b.setNow(ackMailed.Add(26 * time.Hour))
		at := b.clock()
		b.post(t, path, "  Đã liên hệ công dân  ").want(t, http.StatusOK, "recorded", "Đã ghi nhận", "11:00 04/03/2026")
		for _, br := range []dvcwatch.StoredBreach{b.overdue, b.apology} {
			want := dvcwatch.Ack{Severity: dvcwatch.SeverityWarning, Reason: "Đã liên hệ công dân", At: at}
			if got := b.ack(t, "binh", br.ID); !got.At.Equal(want.At) || got.Severity != want.Severity || got.Reason != want.Reason {
				t.Errorf("breach %d: ack %+v, want %+v", br.ID, got, want)
			}
		}
		if got := b.ack(t, "lan", b.overdue.ID); got != (dvcwatch.Ack{}) {
			t.Errorf("lan's acknowledgement %+v recorded for binh's link", got)
		}
		if !strings.Contains(b.log.String(), "breaches acknowledged from the mail") {
			t.Errorf("the acknowledgement is not logged:\n%s", b.log.String())
		}

		used := b.state(t)
		b.setNow(ackMailed.Add(30 * time.Hour))
		b.post(t, path, "lần nữa").want(t, http.StatusConflict, "used", "đã được sử dụng", "11:00 04/03/2026")
		b.get(t, path).want(t, http.StatusConflict, "used", "11:00 04/03/2026")
		b.unchanged(t, used, "a used link")
	})
}

// TestAckPageDefaultReason: a form sent without a note records the default
// one; a note too long is refused with the form kept.
func TestAckPageDefaultReason(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := ackSetup(t, db)
		path := b.link(t, "binh", ref(b.overdue))
		before := b.state(t)
		long := strings.Repeat("ạ", 501)
		b.post(t, path, long).want(t, http.StatusBadRequest, "confirm", "tối đa 500 ký tự", long)
		b.unchanged(t, before, "a note too long")
		b.post(t, path, "").want(t, http.StatusOK, "recorded")
		if got := b.ack(t, "binh", b.overdue.ID); !strings.Contains(got.Reason, "liên kết trong thư") {
			t.Errorf("reason %q, want the default saying it came from the mail", got.Reason)
		}
	})
}

// TestAckPageRefused: expired, altered, malformed, for an official not
// configured, and for one never told of the breach: each a page that says
// so, and nothing recorded.
func TestAckPageRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := ackSetup(t, db)
		good := b.link(t, "binh", ref(b.overdue), ref(b.apology))
		before := b.state(t)

		tampered := []byte(good)
		i := len(acklink.Path) + strings.Index(good[len(acklink.Path):], ".") + 5 // in the payload
		tampered[i] ^= 'A' ^ 'B'
		if tampered[i] == good[i] {
			t.Fatal("no change")
		}
		foreign, err := acklink.Sign([]byte("another-servers-key-0123456789abcd"), acklink.Claim{Recipient: "binh",
			Breaches: []dvcwatch.BreachRef{ref(b.overdue)}, Expires: ackMailed.Add(ackValidFor)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, path string
			status     int
			page, says string
		}{
			{"altered", string(tampered), http.StatusBadRequest, "invalid", "Liên kết không hợp lệ"},
			{"malformed", acklink.Path + "abc.def", http.StatusBadRequest, "invalid", "bị cắt ngắn"},
			{"another key", acklink.Path + foreign, http.StatusBadRequest, "invalid", "Liên kết không hợp lệ"},
			// lan's own link, validly signed, to binh's breaches.
			{"never told", b.link(t, "lan", ref(b.overdue)), http.StatusForbidden, "wrong", "không dành cho người nhận này"},
			{"told of one only", b.link(t, "binh", ref(b.overdue), ref(b.other)), http.StatusForbidden, "wrong", "không dành cho người nhận này"},
			{"not configured", b.link(t, "ghost", ref(b.overdue)), http.StatusForbidden, "wrong", "không dành cho người nhận này"},
			{"no such breach", b.link(t, "binh", dvcwatch.BreachRef{ID: b.other.ID + 100, Severity: dvcwatch.SeverityWarning}),
				http.StatusForbidden, "wrong", "không dành cho người nhận này"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b.get(t, tc.path).want(t, tc.status, tc.page, tc.says)
				a := b.post(t, tc.path, "x")
				a.want(t, tc.status, tc.page, tc.says)
				if strings.Contains(a.body, "HS-00") || strings.Contains(a.body, "<form") {
					t.Errorf("a refused link shows breaches or a form:\n%s", a.body)
				}
			})
		}
		b.unchanged(t, before, "refused links")

		b.setNow(ackMailed.Add(ackValidFor))
		b.get(t, good).want(t, http.StatusGone, "expired", "Liên kết đã hết hạn")
		b.post(t, good, "x").want(t, http.StatusGone, "expired")
		b.unchanged(t, before, "an expired link")
	})
}

// TestAckPageResolvedAndChanged: a breach resolved, or at another severity,
// since the mail is not acknowledged; the rest of the row is.
func TestAckPageResolvedAndChanged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := ackSetup(t, db)
		path := b.link(t, "binh", ref(b.overdue), ref(b.apology))

		// Both ended: nothing left to do.
		ackDetect(t, db, ackMailed.Add(30*time.Minute), dvcwatch.SeverityWarning, false, false)
		before := b.state(t)
		b.get(t, path).want(t, http.StatusConflict, "moot", "đã được khắc phục", "Đã hết vi phạm lúc 09:30 03/03/2026")
		b.post(t, path, "x").want(t, http.StatusConflict, "moot")
		b.unchanged(t, before, "a link to resolved breaches")

		// Both again, the overdue one critical now: only the apology is
		// acknowledged at the severity mailed.
		ackDetect(t, db, ackMailed.Add(40*time.Minute), dvcwatch.SeverityCritical, true, true)
		b.get(t, path).want(t, http.StatusOK, "confirm", "Mức độ đã đổi từ Cảnh báo sang Nghiêm trọng")
		b.post(t, path, "").want(t, http.StatusOK, "recorded", "Vừa xác nhận")
		if got := b.ack(t, "binh", b.overdue.ID); got != (dvcwatch.Ack{}) {
			t.Errorf("the escalated breach was acknowledged: %+v", got)
		}
		if got := b.ack(t, "binh", b.apology.ID); got.Severity != dvcwatch.SeverityWarning {
			t.Errorf("the apology breach: ack %+v, want at warning", got)
		}
		b.get(t, path).want(t, http.StatusConflict, "moot", "Đã xác nhận lúc", "Mức độ đã đổi")

		// The new mail's link, at critical, acknowledges it.
		escalated := b.link(t, "binh", dvcwatch.BreachRef{ID: b.overdue.ID, Severity: dvcwatch.SeverityCritical})
		b.post(t, escalated, "").want(t, http.StatusOK, "recorded", "Nghiêm trọng")
		if got := b.ack(t, "binh", b.overdue.ID); got.Severity != dvcwatch.SeverityCritical {
			t.Errorf("after the new link: ack %+v, want at critical", got)
		}
	})
}

// TestAckPageCrossSite: a browser's post from another site is refused; from
// the page itself, or through the configured address, it is not.
func TestAckPageCrossSite(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := ackSetup(t, db)
		form := url.Values{"reason": {"x"}}
		for _, h := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site", "Origin": "https://other.x.example"},
			{"Origin": "https://attacker.example"},
		} {
			path := b.link(t, "binh", ref(b.overdue))
			before := b.state(t)
			b.request(t, http.MethodPost, path, form, h).want(t, http.StatusForbidden, "crosssite")
			b.unchanged(t, before, "a cross-site post")
		}
		b.request(t, http.MethodPost, b.link(t, "binh", ref(b.overdue)), form, map[string]string{"Origin": ackBase}).
			want(t, http.StatusOK, "recorded")
		b.request(t, http.MethodPost, b.link(t, "binh", ref(b.apology)), form,
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://proxy.internal"}).want(t, http.StatusOK, "recorded")
	})
}

// TestAckPageOff: without links configured the route says so.
func TestAckPageOff(t *testing.T) {
	t.Parallel()
	b := ackSetup(t, storetest.SQLite(t), func(o *admin.Options) { o.Ack = admin.AckPage{} })
	path := b.link(t, "binh", ref(b.overdue))
	b.get(t, path).want(t, http.StatusNotFound, "off")
	b.post(t, path, "").want(t, http.StatusNotFound, "off")
}

var ackResource = regexp.MustCompile(`(?i)<(script|link|img|iframe|object|embed|video|audio|source)\b|\b(src|href|srcset|action)\s*=|url\(|@import`)

// TestAckPageHTML: the page fits a phone (viewport), loads nothing (no
// script, link, image or URL in its CSS), its one stylesheet is the one the
// policy admits by hash, and it carries the UI's security headers.
func TestAckPageHTML(t *testing.T) {
	t.Parallel()
	b := ackSetup(t, storetest.SQLite(t))
	for _, a := range []ackAnswer{
		b.get(t, b.link(t, "binh", ref(b.overdue), ref(b.apology))),
		b.get(t, acklink.Path+"x.y.z"),
	} {
		if !strings.Contains(a.body, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
			t.Errorf("page %s has no viewport meta", a.page())
		}
		if m := ackResource.FindString(a.body); m != "" {
			t.Errorf("page %s loads or links something: %q", a.page(), m)
		}
		css, ok := between(a.body, "<style>", "</style>")
		if !ok || strings.Count(a.body, "<style") != 1 {
			t.Fatalf("page %s: want one <style> element", a.page())
		}
		sum := sha256.Sum256([]byte(css))
		csp := a.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
			!strings.HasPrefix(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "form-action 'self'") {
			t.Errorf("page %s: Content-Security-Policy %q does not admit exactly its stylesheet", a.page(), csp)
		}
		for h, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
			"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
			if got := a.header.Get(h); got != want {
				t.Errorf("page %s: %s = %q, want %q", a.page(), h, got, want)
			}
		}
	}
}

func between(s, open, close string) (string, bool) {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return "", false
	}
	inner, _, ok := strings.Cut(rest, close)
	return inner, ok
}
