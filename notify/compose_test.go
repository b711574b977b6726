package notify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/notify/email"
)

// The applicant of every test dossier; these must never leave unmasked.
const (
	applicantName   = "Nguyễn Thị Hoa"
	applicantPhone  = "0912 345 678"
	maskedApplicant = "N. T. H."
	maskedPhone     = "*******678"
)

func detail(b dvcwatch.StoredBreach, code string) dvcwatch.BreachDetail {
	b.Key.Code = code
	return dvcwatch.BreachDetail{StoredBreach: b, ProcedureName: "Đăng ký khai sinh",
		ApplicantName: applicantName, ApplicantPhone: applicantPhone}
}

func pending(id int64, recipient string, role dvcwatch.Role, d dvcwatch.BreachDetail) dvcwatch.PendingAlert {
	return dvcwatch.PendingAlert{ID: id, Recipient: recipient, Role: role, Severity: d.Severity,
		Reason: dvcwatch.AlertNew, Breach: d}
}

func testComposer(t *testing.T, mutate func(*config.Config)) *Composer {
	t.Helper()
	r, err := email.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	return &Composer{Dir: testDirectory(t, mutate), Renderer: r, OfficeHoursOnly: true}
}

// noPersonalData fails if the applicant's raw name or phone is in any part.
func noPersonalData(t *testing.T, what string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		for _, raw := range []string{applicantName, applicantPhone, strings.ReplaceAll(applicantPhone, " ", ""), "Hoa"} {
			if strings.Contains(p, raw) {
				t.Errorf("%s contains the applicant's %q:\n%s", what, raw, p)
			}
		}
	}
}

func TestComposeDigest(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	now := weekday(t, vn(2026, 3, 10, 10, 30), time.Tuesday)
	late := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), "000.05.31.H99-260301-0001")
	step := breach(2, dueSoon, warning, "da.nghi.viec", "KT", vn(2026, 3, 10, 17, 0))
	step.StepSeq = 2
	soon := detail(step, "000.05.31.H99-260302-0002")
	compose := c.Compose(now)

	n, ok, err := compose(officialID, slices.Values([]dvcwatch.PendingAlert{
		pending(11, officialID, dvcwatch.RoleOfficial, late),
		pending(12, officialID, dvcwatch.RoleOfficial, soon),
	}))
	if err != nil || !ok {
		t.Fatalf("compose: ok=%v err=%v", ok, err)
	}
	if n.Kind != dvcwatch.NotificationAlerts || n.Recipient != officialID || n.Email != "nguyen.van.a@hoabinh.example" || n.Items != 2 {
		t.Errorf("notification %+v", n)
	}
	if !strings.HasPrefix(n.DedupeKey, "alerts:"+officialID+":") {
		t.Errorf("dedupe key %q", n.DedupeKey)
	}
	if want := "[UBND xã Hòa Bình] 2 hồ sơ cần xử lý: 1 quá hạn, 1 sắp đến hạn — hạn sớm nhất 09/03/2026"; n.Subject != want {
		t.Errorf("subject\n got %q\nwant %q", n.Subject, want)
	}
	for _, want := range []string{
		"Kính gửi Nguyễn Văn A,",
		"Tính đến 10:30 ngày 10/03/2026, UBND xã Hòa Bình có 2 hồ sơ cần anh/chị xử lý: 1 quá hạn, 1 sắp đến hạn.",
		"* 000.05.31.H99-260301-0001 — Đăng ký khai sinh",
		"Quá hạn 1 ngày làm việc (hạn 09/03/2026)",          // by date: Tuesday is one working day after Monday's due
		"Đang xử lý: Phòng Văn hóa – Xã hội — Nguyễn Văn A", // the official's name, not the id
		"Vi phạm: Sắp đến hạn (bước 2)",
		"Còn 4,5 giờ làm việc (hạn 10/03/2026)",    // 10:30 to 11:30, 13:30 to 17:00
		"Đang xử lý: Phòng Kinh tế — da.nghi.viec", // an official not configured: the id
		"Cần làm: Giải quyết ngay, phát hành văn bản xin lỗi",
		"Căn cứ: Điều 19 khoản 6 Nghị định 118/2025/NĐ-CP",
		"Người nộp: " + maskedApplicant + ", ĐT " + maskedPhone,
		"Xem hồ sơ: https://motcua.example/ho-so/000.05.31.H99-260301-0001",
		"vai trò cán bộ xử lý",
	} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, n.Text)
		}
	}
	for _, want := range []string{"000.05.31.H99-260301-0001", "000.05.31.H99-260302-0002", maskedApplicant, maskedPhone,
		`href="https://motcua.example/ho-so/000.05.31.H99-260302-0002"`} {
		if !strings.Contains(n.HTML, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	noPersonalData(t, "digest", n.Subject, n.Text, n.HTML)

	// Another recipient of one of the breaches gets an email of their own.
	h, ok, err := compose("tran.thi.b", slices.Values([]dvcwatch.PendingAlert{pending(13, "tran.thi.b", dvcwatch.RoleDepartmentHead, late)}))
	if err != nil || !ok {
		t.Fatalf("compose: ok=%v err=%v", ok, err)
	}
	if h.Email != "tran.thi.b@hoabinh.example" || h.Items != 1 || h.DedupeKey == n.DedupeKey ||
		!strings.Contains(h.Text, "Kính gửi Trần Thị B,") || !strings.Contains(h.Text, "vai trò lãnh đạo phòng") ||
		strings.Contains(h.Text, "260302-0002") {
		t.Errorf("head's notification %+v", h)
	}
	noPersonalData(t, "head's digest", h.Subject, h.Text, h.HTML)
}

// TestComposeLateBy: how late a row says its dossier is, in working days by
// date, as the rules judge it.
func TestComposeLateBy(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.OfficeHoursOnly = false
	due := weekday(t, vn(2026, 3, 9, 17, 0), time.Monday)
	tests := []struct {
		now  time.Time
		want string
	}{
		{vn(2026, 3, 10, 10, 30), "Quá hạn 1 ngày làm việc (hạn 09/03/2026)"},
		{vn(2026, 3, 11, 10, 0), "Quá hạn 2 ngày làm việc (hạn 09/03/2026)"},
		{vn(2026, 3, 16, 8, 0), "Quá hạn 5 ngày làm việc (hạn 09/03/2026)"}, // the weekend is not counted
		{vn(2026, 3, 9, 20, 0), "  Quá hạn (hạn 09/03/2026)"},               // the due date itself: not late by date
	}
	for _, tt := range tests {
		b := detail(breach(1, overdue, warning, officialID, "VHXH", due), "000.05.31.H99-260301-0001")
		n, ok, err := c.Compose(tt.now)(officialID, slices.Values([]dvcwatch.PendingAlert{pending(1, officialID, dvcwatch.RoleOfficial, b)}))
		if err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", tt.now, ok, err)
		}
		if !strings.Contains(n.Text, tt.want) {
			t.Errorf("at %s: text lacks %q:\n%s", tt.now, tt.want, n.Text)
		}
	}
	// A closed dossier (not actionable) is not said to be late by a growing amount.
	b := detail(breach(1, overdue, warning, officialID, "VHXH", due), "000.05.31.H99-260301-0001")
	b.Actionable = false
	n, _, err := c.Compose(vn(2026, 3, 11, 10, 0))(officialID, slices.Values([]dvcwatch.PendingAlert{pending(1, officialID, dvcwatch.RoleOfficial, b)}))
	if err != nil || strings.Contains(n.Text, "ngày làm việc (hạn") {
		t.Errorf("closed dossier: err=%v text:\n%s", err, n.Text)
	}
}

// TestComposeOneRowPerDossier: a dossier with several breaches is one row
// with all its tags, and the counts are of distinct dossiers.
func TestComposeOneRowPerDossier(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.OfficeHoursOnly = false
	now := vn(2026, 3, 12, 9, 0)
	code := "000.05.31.H99-260301-0001"
	late := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), code)
	apology := detail(breach(2, noApology, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), code)
	step := breach(3, dvcwatch.BreachStepOverdue, warning, officialID, "VHXH", vn(2026, 3, 6, 17, 0))
	step.StepSeq = 2
	stepLate := detail(step, code)
	other := detail(breach(4, overdue, warning, officialID, "VHXH", vn(2026, 3, 11, 17, 0)), "000.05.31.H99-260302-0002")
	n, ok, err := c.Compose(now)(officialID, slices.Values([]dvcwatch.PendingAlert{
		pending(1, officialID, dvcwatch.RoleOfficial, late), pending(2, officialID, dvcwatch.RoleOfficial, apology),
		pending(3, officialID, dvcwatch.RoleOfficial, stepLate), pending(4, officialID, dvcwatch.RoleOfficial, other),
	}))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if n.Items != 2 {
		t.Errorf("items %d, want 2 dossiers", n.Items)
	}
	if rows := strings.Count(n.Text, "\n* "); rows != 2 {
		t.Errorf("%d rows in the text, want one per dossier:\n%s", rows, n.Text)
	}
	if c := strings.Count(n.Text, "* "+code); c != 1 {
		t.Errorf("dossier %s listed %d times", code, c)
	}
	for _, want := range []string{
		"có 2 hồ sơ cần anh/chị xử lý: 2 quá hạn, 1 trễ hạn chưa có văn bản xin lỗi, 1 bước xử lý quá hạn.",
		"Vi phạm: Quá hạn; Trễ hạn chưa có văn bản xin lỗi; Bước xử lý quá hạn (bước 2)",
	} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, n.Text)
		}
	}
	// The most overdue first.
	if strings.Index(n.Text, code) > strings.Index(n.Text, "260302-0002") {
		t.Errorf("the dossier 3 working days late is not listed first:\n%s", n.Text)
	}
}

// TestComposeSizeBudget: a backlog of thousands of dossiers makes an email
// of the most urgent rows under the size budget, with the rest counted per
// department and linked to the console.
func TestComposeSizeBudget(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.OfficeHoursOnly, c.ConsoleURL = false, "https://dvcwatch.hoabinh.example/"
	var alerts []dvcwatch.PendingAlert
	for i := range 3000 {
		b := breach(int64(i+1), overdue, warning, officialID, []string{"VHXH", "KT"}[i%2], vn(2026, 3, 2+i%5, 17, 0))
		alerts = append(alerts, pending(int64(i+1), officialID, dvcwatch.RoleOfficial,
			detail(b, fmt.Sprintf("000.05.31.H99-2603%02d-%04d", 1+i%28, i))))
	}
	n, ok, err := c.Compose(vn(2026, 3, 12, 9, 0))(officialID, slices.Values(alerts))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if len(n.HTML) > email.MaxHTMLBytes || n.Items != 3000 {
		t.Errorf("html %d bytes (budget %d), items %d", len(n.HTML), email.MaxHTMLBytes, n.Items)
	}
	for _, want := range []string{
		"có 3000 hồ sơ cần anh/chị xử lý: 3000 quá hạn.",
		"… và 2970 hồ sơ khác, ít khẩn cấp hơn: https://dvcwatch.hoabinh.example/#/breaches?recipient=" + officialID,
		"Phòng Văn hóa – Xã hội: 1500", "Phòng Kinh tế: 1500",
	} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if rows := strings.Count(n.Text, "\n* "); rows != email.DefaultMaxRows {
		t.Errorf("%d rows listed, want %d", rows, email.DefaultMaxRows)
	}
	// Each row links to its dossier's page in the console.
	if rows := strings.Count(n.HTML, `href="https://dvcwatch.hoabinh.example/#/dossiers/onestop/000.05.31.H99-`); rows != email.DefaultMaxRows {
		t.Errorf("%d rows link to their dossier's page in the console, want %d", rows, email.DefaultMaxRows)
	}
}

func TestComposeOfficeHoursOnly(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	alerts := []dvcwatch.PendingAlert{pending(1, officialID, dvcwatch.RoleOfficial,
		detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 2, 12, 17, 0)), "000.05.31.H99-260201-0001"))}
	tests := []struct {
		name string
		now  time.Time
		send bool
	}{
		{"Tuesday morning", weekday(t, vn(2026, 3, 10, 9, 0), time.Tuesday), true},
		{"Tuesday afternoon", vn(2026, 3, 10, 16, 59), true},
		{"Tuesday lunch break", vn(2026, 3, 10, 12, 0), false},
		{"Tuesday before opening", vn(2026, 3, 10, 7, 0), false},
		{"Tuesday evening", vn(2026, 3, 10, 19, 0), false},
		{"Saturday", weekday(t, vn(2026, 3, 14, 10, 0), time.Saturday), false},
		{"Tết, a Wednesday", weekday(t, vn(2026, 2, 18, 10, 0), time.Wednesday), false},
		{"first working day after Tết", weekday(t, vn(2026, 2, 23, 8, 0), time.Monday), true},
		// 03:00 UTC is 10:00 in Vietnam.
		{"office hours given in UTC", time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC), true},
		// The calendar cannot tell: mail is not held forever.
		{"a year beyond the calendar, at night", vn(2101, 1, 1, 22, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ok, err := c.Compose(tt.now)(officialID, slices.Values(alerts))
			if err != nil || ok != tt.send {
				t.Errorf("ok=%v err=%v, want ok=%v", ok, err, tt.send)
			}
		})
	}
	// Without the option, the evening sends.
	all := *c
	all.OfficeHoursOnly = false
	if _, ok, err := all.Compose(vn(2026, 3, 14, 22, 0))(officialID, slices.Values(alerts)); err != nil || !ok {
		t.Errorf("without office_hours_only: ok=%v err=%v", ok, err)
	}
}

func TestComposeUnknownRecipient(t *testing.T) {
	t.Parallel()
	c := testComposer(t, func(cfg *config.Config) { official(t, cfg, "pham.van.c").Email = "" })
	c.OfficeHoursOnly = false
	b := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), "000.05.31.H99-260301-0001")
	for _, who := range []string{"da.nghi.viec", "pham.van.c", ""} {
		n, ok, err := c.Compose(vn(2026, 3, 10, 9, 0))(who, slices.Values([]dvcwatch.PendingAlert{pending(1, who, dvcwatch.RoleOfficial, b)}))
		if err != nil || ok || n != (dvcwatch.NewNotification{}) {
			t.Errorf("recipient %q: ok=%v err=%v n=%+v, want the alerts left pending", who, ok, err, n)
		}
	}
}

func TestComposeLinkEscapesCode(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	code := "000.05.31.H99/260310 0003?x=1#y"
	const link = "https://motcua.example/ho-so/000.05.31.H99%2F260310%200003%3Fx=1%23y"
	if got := c.Dir.DossierLink(code); got != link {
		t.Fatalf("DossierLink = %q, want %q", got, link)
	}
	b := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), code)
	n, ok, err := c.Compose(vn(2026, 3, 10, 9, 0))(officialID, slices.Values([]dvcwatch.PendingAlert{pending(1, officialID, dvcwatch.RoleOfficial, b)}))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if !strings.Contains(n.Text, "Xem hồ sơ: "+link+"\n") {
		t.Errorf("text lacks the link %s:\n%s", link, n.Text)
	}
	if !strings.Contains(n.HTML, `href="`+link+`"`) {
		t.Errorf("html lacks the link %s:\n%s", link, n.HTML)
	}

	// No dossier_url: no link at all.
	c = testComposer(t, func(cfg *config.Config) { cfg.Notify.DossierURL = "" })
	if got := c.Dir.DossierLink(code); got != "" {
		t.Errorf("DossierLink without dossier_url = %q", got)
	}
	n, _, err = c.Compose(vn(2026, 3, 10, 9, 0))(officialID, slices.Values([]dvcwatch.PendingAlert{pending(1, officialID, dvcwatch.RoleOfficial, b)}))
	if err != nil || strings.Contains(n.Text, "Xem hồ sơ") || strings.Contains(n.HTML, "href=") {
		t.Errorf("without dossier_url: err=%v\n%s\n%s", err, n.Text, n.HTML)
	}
}

func TestComposeDedupeKey(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.OfficeHoursOnly = false
	b := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), "000.05.31.H99-260301-0001")
	key := func(now time.Time, recipient string, ids ...int64) string {
		t.Helper()
		var alerts []dvcwatch.PendingAlert
		for _, id := range ids {
			alerts = append(alerts, pending(id, recipient, dvcwatch.RoleOfficial, b))
		}
		n, ok, err := c.Compose(now)(recipient, slices.Values(alerts))
		if err != nil || !ok {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		return n.DedupeKey
	}
	now := vn(2026, 3, 10, 9, 0)
	k := key(now, officialID, 1, 2)
	if again := key(now.Add(3*time.Hour), officialID, 1, 2); again != k {
		t.Errorf("same alerts, later pass: key %q, then %q", k, again)
	}
	seen := map[string]string{k: "1,2"}
	for name, other := range map[string]string{
		"1,3":         key(now, officialID, 1, 3),
		"1":           key(now, officialID, 1),
		"1,2,3":       key(now, officialID, 1, 2, 3),
		"12":          key(now, officialID, 12),
		"head 1,2":    key(now, "tran.thi.b", 1, 2),
		"(12, 3)":     key(now, officialID, 12, 3),
		"(1, 23)":     key(now, officialID, 1, 23),
		"(123)":       key(now, officialID, 123),
		"2,1 (order)": key(now, officialID, 2, 1),
	} {
		if prev, dup := seen[other]; dup {
			t.Errorf("alerts %s and %s share the dedupe key %q", name, prev, other)
		}
		seen[other] = name
	}
	ids := newIDsKey()
	ids.add(1)
	ids.add(2)
	if want := "alerts:" + officialID + ":" + ids.String(); k != want {
		t.Errorf("key %q, want %q", k, want)
	}
}

func TestComposeRenderError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, email.TextFile), []byte("{{.NoSuchField}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := email.NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &Composer{Dir: testDirectory(t, nil), Renderer: r}
	b := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), "000.05.31.H99-260301-0001")
	_, ok, err := c.Compose(vn(2026, 3, 10, 9, 0))(officialID, slices.Values([]dvcwatch.PendingAlert{pending(1, officialID, dvcwatch.RoleOfficial, b)}))
	if err == nil || ok {
		t.Fatalf("ok=%v err=%v, want the template's error", ok, err)
	}
}

// memSummaryStore is the outbox and breaches as Summarize sees them: breaches
// by agency, filtered as store.AgencyBreaches does (unresolved, or detected
// at or after since), and notifications deduplicated on their key as
// store.AddNotification does.
type memSummaryStore struct {
	mu       sync.Mutex
	breaches map[string][]dvcwatch.BreachDetail
	fail     map[string]error // AgencyBreaches error by agency
	queried  []string         // agency@since, per AgencyBreaches call
	notes    []dvcwatch.NewNotification
	byKey    map[string]int64
	sent     map[string]time.Time // the last summary sent, by recipient
}

func (m *memSummaryStore) LastSent(_ context.Context, recipient string, kind dvcwatch.NotificationKind) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.sent[recipient]
	return at, ok && kind == dvcwatch.NotificationSummary, nil
}

func (m *memSummaryStore) AgencyBreaches(_ context.Context, agency string, since time.Time) iter.Seq2[dvcwatch.BreachDetail, error] {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queried = append(m.queried, agency+"@"+since.UTC().Format(time.RFC3339))
	if err := m.fail[agency]; err != nil {
		return func(yield func(dvcwatch.BreachDetail, error) bool) { yield(dvcwatch.BreachDetail{}, err) }
	}
	var out []dvcwatch.BreachDetail
	for _, b := range m.breaches[agency] {
		if b.ResolvedAt.IsZero() || !b.DetectedAt.Before(since) {
			out = append(out, b)
		}
	}
	return func(yield func(dvcwatch.BreachDetail, error) bool) {
		for _, b := range out {
			if !yield(b, nil) {
				return
			}
		}
	}
}

func (m *memSummaryStore) AddNotification(_ context.Context, n dvcwatch.NewNotification, _ time.Time) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n.DedupeKey == "" || n.Recipient == "" || n.Email == "" {
		return 0, false, errors.New("store notification: dedupe key, recipient and email are required")
	}
	if m.byKey == nil {
		m.byKey = map[string]int64{}
	}
	if id, ok := m.byKey[n.DedupeKey]; ok {
		return id, false, nil
	}
	m.notes = append(m.notes, n)
	id := int64(len(m.notes))
	m.byKey[n.DedupeKey] = id
	return id, true, nil
}

func (m *memSummaryStore) HasNotification(_ context.Context, dedupeKey string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byKey[dedupeKey]
	return ok, nil
}

func (m *memSummaryStore) note(id int64) dvcwatch.NewNotification {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notes[id-1]
}

func (m *memSummaryStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.notes)
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	// 17:30 UTC on Monday 9 March is 00:30 on Tuesday 10 March in Vietnam:
	// the summary is Tuesday's.
	now := time.Date(2026, 3, 9, 17, 30, 0, 0, time.UTC)
	stored := func(id int64, kind dvcwatch.BreachKind, dept string, detectedAgo time.Duration, resolved bool) dvcwatch.BreachDetail {
		b := breach(id, kind, warning, officialID, dept, vn(2026, 3, 6, 17, 0))
		b.DetectedAt = now.Add(-detectedAgo)
		if resolved {
			b.ResolvedAt = now.Add(-time.Hour)
			b.Actionable = false
		}
		return detail(b, fmt.Sprintf("000.05.31.H99-260306-%04d", id))
	}
	st := &memSummaryStore{breaches: map[string][]dvcwatch.BreachDetail{
		hoaBinh: {
			stored(1, overdue, "VHXH", 72*time.Hour, false),                 // overdue
			stored(2, overdue, "KT", 2*time.Hour, false),                    // overdue and new
			stored(3, noApology, "VHXH", 72*time.Hour, false),               // missing apology
			stored(4, dvcwatch.BreachFinishedLate, "KT", 5*time.Hour, true), // new, resolved since
			stored(5, overdue, "KT", 72*time.Hour, true),                    // resolved long ago: not read
			stored(6, overdue, "XX", 72*time.Hour, false),                   // a department not configured
			stored(7, dueSoon, "VHXH", 72*time.Hour, false),                 // due soon
			stored(8, noApology, "KT", 2*time.Hour, true),                   // new, resolved: not missing any more
		},
	}, sent: map[string]time.Time{"pho.van.phong": now.Add(-3 * time.Hour)}}

	created, err := c.Summarize(t.Context(), st, now)
	if err != nil {
		t.Fatal(err)
	}
	// Agencies in code order: Tân Phú (H98), then Hòa Bình (H99); the
	// commune with no office (H97) gets none and is not read.
	if !slices.Equal(created, []int64{1, 2, 3}) {
		t.Fatalf("created %v, want [1 2 3]", created)
	}
	// "New" counts from the summary each person last received, else 24 hours.
	day, three := now.Add(-24*time.Hour).UTC().Format(time.RFC3339), now.Add(-3*time.Hour).UTC().Format(time.RFC3339)
	if want := []string{tanPhu + "@" + day, hoaBinh + "@" + day, hoaBinh + "@" + three}; !slices.Equal(st.queried, want) {
		t.Errorf("AgencyBreaches calls %v, want %v", st.queried, want)
	}

	tp := st.note(1)
	if tp.Recipient != "vanphong.tanphu" || tp.Email != "vanphong@tanphu.example" || tp.Kind != dvcwatch.NotificationSummary ||
		tp.DedupeKey != "summary:vanphong.tanphu:2026-03-10" || tp.Attachment != nil {
		t.Errorf("Tân Phú summary %+v", tp)
	}
	if want := "[UBND xã Tân Phú] Tổng hợp ngày 10/03/2026: không có hồ sơ trễ hạn"; tp.Subject != want {
		t.Errorf("Tân Phú subject %q, want %q", tp.Subject, want)
	}

	for i, who := range []struct {
		id, email, name string
		fresh           int
	}{
		{"van.phong", "vanphong@hoabinh.example", "Văn phòng HĐND và UBND xã", 3},
		{"pho.van.phong", "phovanphong@hoabinh.example", "Phó Văn phòng", 2},
	} {
		n := st.note(int64(2 + i))
		if n.Recipient != who.id || n.Email != who.email || n.Kind != dvcwatch.NotificationSummary ||
			n.DedupeKey != "summary:"+who.id+":2026-03-10" {
			t.Errorf("summary %d: %+v", 2+i, n)
		}
		if want := fmt.Sprintf("[UBND xã Hòa Bình] Tổng hợp ngày 10/03/2026: 3 hồ sơ quá hạn, %d có vi phạm mới, 1 thiếu văn bản xin lỗi", who.fresh); n.Subject != want {
			t.Errorf("subject %q, want %q", n.Subject, want)
		}
		for _, want := range []string{
			"Kính gửi " + who.name + ",",
			"Quá hạn: 3 hồ sơ. Sắp đến hạn: 1.",
			"Phòng Văn hóa – Xã hội: 1 / 1 / 0 / 1",
			fmt.Sprintf("Phòng Kinh tế: 1 / 0 / %d / 0", who.fresh),
			"XX: 1 / 0 / 0 / 0",
			"* 000.05.31.H99-260306-0001 — Đăng ký khai sinh",
			"Quá hạn 2 ngày làm việc (hạn 06/03/2026)", // Monday and Tuesday after Friday's due
			"Đang xử lý: Phòng Văn hóa – Xã hội — Nguyễn Văn A",
		} {
			if !strings.Contains(n.Text, want) {
				t.Errorf("summary text lacks %q:\n%s", want, n.Text)
			}
		}
		if strings.Contains(n.Text, "260306-0005") || strings.Contains(n.HTML, "260306-0005") {
			t.Error("summary lists a breach resolved long ago")
		}
		noPersonalData(t, "summary", n.Subject, n.Text, n.HTML)
	}

	// Later the same (Vietnamese) day: nothing new, and nothing composed
	// only to be thrown away.
	queried := len(st.queried)
	again, err := c.Summarize(t.Context(), st, vn(2026, 3, 10, 16, 0))
	if err != nil || len(again) != 0 || st.count() != 3 {
		t.Fatalf("second summary the same day: created %v, err %v, %d notifications", again, err, st.count())
	}
	if len(st.queried) != queried {
		t.Errorf("second summary the same day read the breaches again: %v", st.queried[queried:])
	}
	// The next day: one each again.
	next, err := c.Summarize(t.Context(), st, vn(2026, 3, 11, 7, 30))
	if err != nil || !slices.Equal(next, []int64{4, 5, 6}) {
		t.Fatalf("next day: created %v, err %v", next, err)
	}
	if k := st.note(4).DedupeKey; k != "summary:vanphong.tanphu:2026-03-11" {
		t.Errorf("next day's key %q", k)
	}
}

// TestSummarizeAttachesTheFullList: past the rows an email lists, the
// summary names the rest and attaches them all as a workbook.
func TestSummarizeAttachesTheFullList(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.MaxRows = 5
	now := vn(2026, 3, 10, 7, 30)
	var bs []dvcwatch.BreachDetail
	for i := range 12 {
		b := breach(int64(i+1), overdue, warning, officialID, "VHXH", vn(2026, 3, 6, 17, 0))
		b.DetectedAt = now.Add(-72 * time.Hour)
		bs = append(bs, detail(b, fmt.Sprintf("000.05.31.H99-260306-%04d", i+1)))
	}
	st := &memSummaryStore{breaches: map[string][]dvcwatch.BreachDetail{hoaBinh: bs}}
	if _, err := c.Summarize(t.Context(), st, now); err != nil {
		t.Fatal(err)
	}
	n := st.note(2)
	a := n.Attachment
	if a == nil || a.Name != "tong-hop-2026-03-10.xlsx" || a.Type != email.WorkbookType || len(a.Data) < 1000 ||
		string(a.Data[:2]) != "PK" {
		t.Fatalf("attachment %+v, want the workbook", a)
	}
	if !strings.Contains(n.Text, "… và 7 hồ sơ khác: danh sách đầy đủ trong tệp đính kèm tong-hop-2026-03-10.xlsx") {
		t.Errorf("text does not point at the attachment:\n%s", n.Text)
	}
}

func TestSummarizeStoreError(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	boom := errors.New("database is down")
	st := &memSummaryStore{fail: map[string]error{hoaBinh: boom}}
	created, err := c.Summarize(t.Context(), st, vn(2026, 3, 10, 7, 30))
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want %v", err, boom)
	}
	// Tân Phú came first and was written; its id is still reported.
	if !slices.Equal(created, []int64{1}) {
		t.Errorf("created %v, want [1]", created)
	}
}

// ackLinks records what rows asked to be signed.
type ackLinks struct{ asked []string }

func (a *ackLinks) Link(recipient string, bs []dvcwatch.BreachRef, _ time.Time) string {
	link := fmt.Sprintf("https://dvcwatch.example/ack/%s/%v", recipient, bs)
	a.asked = append(a.asked, link)
	return link
}

// TestComposeAckLinks: each row carries one link, for its recipient and the
// breaches of its dossier at the severity mailed.
func TestComposeAckLinks(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.OfficeHoursOnly = false
	links := &ackLinks{}
	c.Acks = links
	code := "000.05.31.H99-260301-0001"
	late := detail(breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), code)
	apology := detail(breach(2, noApology, dvcwatch.SeverityCritical, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), code)
	other := detail(breach(3, overdue, warning, officialID, "VHXH", vn(2026, 3, 10, 17, 0)), "000.05.31.H99-260302-0002")
	n, ok, err := c.Compose(vn(2026, 3, 12, 9, 0))(officialID, slices.Values([]dvcwatch.PendingAlert{
		pending(1, officialID, dvcwatch.RoleOfficial, late), pending(2, officialID, dvcwatch.RoleOfficial, apology),
		pending(3, officialID, dvcwatch.RoleOfficial, other),
	}))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	want := []string{
		"https://dvcwatch.example/ack/" + officialID + "/[{1 warning} {2 critical}]",
		"https://dvcwatch.example/ack/" + officialID + "/[{3 warning}]",
	}
	if !slices.Equal(links.asked, want) {
		t.Errorf("links asked %q, want %q", links.asked, want)
	}
	for _, l := range want {
		if !strings.Contains(n.Text, "Xác nhận đã biết: "+l) {
			t.Errorf("text lacks the link %s", l)
		}
	}
}

// TestComposeCountsEveryAlert: a digest of more dossiers than MaxRows, read
// a dossier's alerts together as the store yields them, counts each dossier
// once in the total and once under each of its kinds, lists the most late
// ones, and says how many more there are.
func TestComposeCountsEveryAlert(t *testing.T) {
	t.Parallel()
	c := testComposer(t, nil)
	c.OfficeHoursOnly, c.MaxRows = false, 2
	now := vn(2026, 3, 12, 9, 0)
	at := func(code string, id int64, kind dvcwatch.BreachKind, step int, due time.Time) dvcwatch.PendingAlert {
		b := breach(id, kind, warning, officialID, "VHXH", due)
		b.StepSeq = step
		return pending(id*10, officialID, dvcwatch.RoleOfficial, detail(b, code))
	}
	alerts := []dvcwatch.PendingAlert{
		at("H99-0001", 5, overdue, 0, vn(2026, 3, 2, 17, 0)),
		at("H99-0001", 9, dvcwatch.BreachStepOverdue, 2, vn(2026, 3, 2, 17, 0)),
		at("H99-0001", 11, dvcwatch.BreachStepOverdue, 3, vn(2026, 3, 3, 17, 0)),
		at("H99-0002", 2, overdue, 0, vn(2026, 3, 9, 17, 0)),
		at("H99-0003", 1, overdue, 0, vn(2026, 3, 11, 17, 0)),
		at("H99-0004", 3, dueSoon, 0, vn(2026, 3, 12, 17, 0)),
	}
	n, ok, err := c.Compose(now)(officialID, slices.Values(alerts))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if n.Items != 4 || !strings.Contains(n.Subject, "4 hồ sơ cần xử lý: 3 quá hạn") || !strings.Contains(n.Subject, "1 sắp đến hạn") {
		t.Errorf("items %d, subject %q: want 4 dossiers, 3 overdue, 1 due soon", n.Items, n.Subject)
	}
	if !strings.Contains(n.Text, "1 bước xử lý quá hạn") {
		t.Errorf("text should count the dossier with two late steps once under its kind:\n%s", n.Text)
	}
	for _, code := range []string{"H99-0001", "H99-0002"} {
		if !strings.Contains(n.Text, code) {
			t.Errorf("text lacks the late %s:\n%s", code, n.Text)
		}
	}
	if strings.Contains(n.Text, "H99-0003") || strings.Contains(n.Text, "H99-0004") || !strings.Contains(n.Text, "2 hồ sơ khác") {
		t.Errorf("text should list the 2 most late and mention 2 more:\n%s", n.Text)
	}
}
