package store_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/notify"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// seedAlerts records, at hour 1, an overdue breach of each of A, B and C; A's
// and B's official is binh, C's is lan, and the office is told of A too. It
// returns the breach ids by dossier code.
func seedAlerts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	seedDossiers(t, db, "A", "B", "C")
	lan := brc(dvcwatch.BreachOverdue, "C", 0, dvcwatch.SeverityWarning)
	lan.Official = "lan"
	plan := func(_ time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
		var out []dvcwatch.AlertIntent
		for _, s := range open {
			out = append(out, dvcwatch.AlertIntent{BreachID: s.ID, Recipient: s.Official, Role: dvcwatch.RoleOfficial,
				Severity: s.Severity, Reason: dvcwatch.AlertNew})
			if s.Key.Code == "A" {
				out = append(out, dvcwatch.AlertIntent{BreachID: s.ID, Recipient: "office", Role: dvcwatch.RoleOffice,
					Severity: s.Severity, Reason: dvcwatch.AlertNew})
			}
		}
		return out
	}
	res := applyBreaches(t, db, detect.Page{Now: hour(1), Plan: plan, Dossiers: []dvcwatch.Evaluation{
		eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityCritical)),
		eval("B", brc(dvcwatch.BreachOverdue, "B", 0, dvcwatch.SeverityWarning)),
		eval("C", lan),
	}})
	if res.Alerts != 4 {
		t.Fatalf("seeded %d alerts, want 4", res.Alerts)
	}
	ids := map[string]int64{}
	for _, c := range []string{"A", "B", "C"} {
		ids[c] = breachByFP(t, db, dvcwatch.BreachOverdue, c, 0).ID
	}
	return ids
}

// composer is a ComposeFunc that remembers its calls; recipients in skip are
// not composed now, and fail makes it fail for a recipient.
type composer struct {
	calls map[string][]dvcwatch.PendingAlert
	order []string
	skip  map[string]bool
	fail  string
	key   func(recipient string) string
}

var errCompose = errors.New("template broken")

func (c *composer) compose(recipient string, seq iter.Seq[dvcwatch.PendingAlert]) (dvcwatch.NewNotification, bool, error) {
	alerts := slices.Collect(seq)
	if len(alerts) == 0 {
		return dvcwatch.NewNotification{}, false, nil
	}
	if c.calls == nil {
		c.calls = map[string][]dvcwatch.PendingAlert{}
	}
	c.calls[recipient] = alerts
	c.order = append(c.order, recipient)
	if recipient == c.fail {
		return dvcwatch.NewNotification{}, false, errCompose
	}
	if c.skip[recipient] {
		return dvcwatch.NewNotification{}, false, nil
	}
	key := "alerts:" + recipient + ":" + fmt.Sprint(alerts[0].ID)
	if c.key != nil {
		key = c.key(recipient)
	}
	return dvcwatch.NewNotification{DedupeKey: key, Kind: dvcwatch.NotificationAlerts, Recipient: recipient,
		Email: recipient + "@ungtoa.gov.vn", Subject: fmt.Sprintf("%d hồ sơ", len(alerts)), Text: "text", HTML: "<p>html</p>",
		Items: len(alerts)}, true, nil
}

func compose(t *testing.T, db *store.DB, now time.Time, c *composer) []int64 {
	t.Helper()
	ids, err := notify.ComposeWith(context.Background(), worker.NotifyStore(db), now, c.compose)
	if err != nil {
		t.Fatalf("ComposeNotifications: %v", err)
	}
	return ids
}

// alertNotifications returns, by recipient, the notification ids of their
// alerts in id order (0: pending).
func alertNotifications(t *testing.T, db *store.DB) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	for _, a := range alertRows(t, db) {
		out[a.Recipient] = append(out[a.Recipient], a.NotificationID.Int64)
	}
	return out
}

func notification(t *testing.T, db *store.DB, id int64) dvcwatch.Notification {
	t.Helper()
	n, err := db.GetNotification(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestComposeNotificationsByRecipient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		breaches := seedAlerts(t, db)
		c := &composer{}
		ids := compose(t, db, hour(2), c)
		if want := []string{"binh", "lan", "office"}; !reflect.DeepEqual(c.order, want) {
			t.Fatalf("compose called for %v, want %v", c.order, want)
		}
		want := map[string][]int64{"binh": {breaches["A"], breaches["B"]}, "lan": {breaches["C"]}, "office": {breaches["A"]}}
		for r, alerts := range c.calls {
			var got []int64
			for i, a := range alerts {
				got = append(got, a.Breach.ID)
				if a.Recipient != r || (i > 0 && a.ID <= alerts[i-1].ID) {
					t.Errorf("%s: alert %+v out of place", r, a)
				}
			}
			if !reflect.DeepEqual(got, want[r]) {
				t.Errorf("%s: alerts of breaches %v, want %v", r, got, want[r])
			}
		}
		a := c.calls["office"][0]
		if a.Role != dvcwatch.RoleOffice || a.Severity != dvcwatch.SeverityCritical || a.Reason != dvcwatch.AlertNew ||
			!a.CreatedAt.Equal(hour(1)) {
			t.Errorf("pending alert = %+v", a)
		}
		if b := a.Breach; !reflect.DeepEqual(b.StoredBreach, getBreach(t, db, breaches["A"])) || b.ProcedureName != "Đăng ký khai sinh" ||
			b.ApplicantName != "Nguyễn Văn A" || b.ApplicantPhone != "0912 000 A" {
			t.Errorf("breach detail = %+v", b)
		}

		if len(ids) != 3 {
			t.Fatalf("created %v, want 3 notifications", ids)
		}
		byRecipient := map[string]int64{}
		for i, id := range ids {
			n := notification(t, db, id)
			r := c.order[i]
			byRecipient[r] = id
			wantKey := "alerts:" + r + ":" + fmt.Sprint(c.calls[r][0].ID)
			if n.DedupeKey != wantKey || n.Recipient != r || n.Email != r+"@ungtoa.gov.vn" || n.Kind != dvcwatch.NotificationAlerts ||
				n.Items != len(want[r]) || !n.CreatedAt.Equal(hour(2)) || n.Text != "text" || n.HTML != "<p>html</p>" ||
				!n.EnqueuedAt.IsZero() || !n.SentAt.IsZero() || n.Attempts != 0 {
				t.Errorf("notification %d = %+v", id, n)
			}
		}
		wantTold := map[string][]int64{"binh": {byRecipient["binh"], byRecipient["binh"]}, "lan": {byRecipient["lan"]},
			"office": {byRecipient["office"]}}
		if got := alertNotifications(t, db); !reflect.DeepEqual(got, wantTold) {
			t.Errorf("alerts' notifications = %v, want %v", got, wantTold)
		}

		again := &composer{}
		if ids := compose(t, db, hour(3), again); len(ids) != 0 || len(again.order) != 0 {
			t.Errorf("second call: created %v after composing for %v; want nothing", ids, again.order)
		}
	})
}

func TestComposeNotificationsNotNow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedAlerts(t, db)
		c := &composer{skip: map[string]bool{"binh": true}}
		ids := compose(t, db, hour(2), c)
		if len(ids) != 2 || len(c.order) != 3 {
			t.Fatalf("created %v after composing for %v; want 2 of 3", ids, c.order)
		}
		if got := alertNotifications(t, db)["binh"]; !reflect.DeepEqual(got, []int64{0, 0}) {
			t.Errorf("binh's alerts: notifications %v, want both pending", got)
		}

		c = &composer{}
		ids = compose(t, db, hour(3), c)
		if len(ids) != 1 || !reflect.DeepEqual(c.order, []string{"binh"}) || len(c.calls["binh"]) != 2 {
			t.Fatalf("next call: created %v after composing for %v", ids, c.order)
		}
		if got := alertNotifications(t, db)["binh"]; !reflect.DeepEqual(got, []int64{ids[0], ids[0]}) {
			t.Errorf("binh's alerts: notifications %v, want both %d", got, ids[0])
		}
		if n := notification(t, db, ids[0]); n.Items != 2 || !n.CreatedAt.Equal(hour(3)) {
			t.Errorf("binh's notification = %+v", n)
		}
		if ids := compose(t, db, hour(4), &composer{}); len(ids) != 0 {
			t.Errorf("third call created %v", ids)
		}
	})
}

func TestComposeNotificationsDropsResolved(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		breaches := seedAlerts(t, db)
		// The office is told of A now; binh and lan are not yet.
		c := &composer{skip: map[string]bool{"binh": true, "lan": true}}
		office := compose(t, db, hour(2), c)
		if len(office) != 1 {
			t.Fatalf("created %v, want the office's notification", office)
		}
		// A and C end before binh and lan are told.
		applyBreaches(t, db, detect.Page{Now: hour(3), Dossiers: []dvcwatch.Evaluation{eval("A"), eval("C")}})

		c = &composer{}
		ids := compose(t, db, hour(4), c)
		if len(ids) != 1 || !reflect.DeepEqual(c.order, []string{"binh"}) {
			t.Fatalf("created %v after composing for %v; want binh's only", ids, c.order)
		}
		if got := c.calls["binh"]; len(got) != 1 || got[0].Breach.ID != breaches["B"] {
			t.Errorf("binh told of %+v, want only B's breach", got)
		}
		// The alerts already in an email stay; the pending ones of ended breaches go.
		var got []string
		for _, a := range alertRows(t, db) {
			got = append(got, fmt.Sprintf("%s:%d:%d", a.Recipient, a.BreachID, a.NotificationID.Int64))
		}
		want := []string{fmt.Sprintf("office:%d:%d", breaches["A"], office[0]), fmt.Sprintf("binh:%d:%d", breaches["B"], ids[0])}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("alerts = %v, want %v", got, want)
		}
	})
}

func TestComposeNotificationsErrorRollsBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedAlerts(t, db)
		applyBreaches(t, db, detect.Page{Now: hour(2), Dossiers: []dvcwatch.Evaluation{eval("C")}}) // lan's alert is to drop
		before := alertRows(t, db)

		// binh's email is stored, lan's alert dropped, then the office's fails.
		c := &composer{fail: "office"}
		ids, err := notify.ComposeWith(ctx, worker.NotifyStore(db), hour(3), c.compose)
		if !errors.Is(err, errCompose) || ids != nil {
			t.Fatalf("ComposeNotifications = %v, %v; want the compose error", ids, err)
		}
		if !reflect.DeepEqual(c.order, []string{"binh", "office"}) {
			t.Errorf("composed for %v, want binh then office", c.order)
		}
		if ns, err := db.Notifications(ctx, 10); err != nil || len(ns) != 0 {
			t.Errorf("notifications after the failure = %+v, %v; want none", ns, err)
		}
		if got := alertRows(t, db); !reflect.DeepEqual(got, before) {
			t.Errorf("alerts after the failure = %+v, want %+v", got, before)
		}

		if ids := compose(t, db, hour(4), &composer{}); len(ids) != 2 {
			t.Errorf("after the failure, created %v, want binh's and the office's", ids)
		}
	})
}

func TestComposeNotificationsExistingDedupeKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedAlerts(t, db)
		existing, created, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: "digest:binh:2026-03-02",
			Kind: dvcwatch.NotificationAlerts, Recipient: "binh", Email: "binh@ungtoa.gov.vn", Subject: "earlier"}, hour(1))
		if err != nil || !created {
			t.Fatalf("AddNotification = %d, %v, %v", existing, created, err)
		}
		c := &composer{key: func(r string) string { return "digest:" + r + ":2026-03-02" }}
		ids := compose(t, db, hour(2), c)
		if len(ids) != 2 || ids[0] == existing || ids[1] == existing {
			t.Errorf("created %v; want lan's and the office's, not the existing %d", ids, existing)
		}
		if got := alertNotifications(t, db)["binh"]; !reflect.DeepEqual(got, []int64{existing, existing}) {
			t.Errorf("binh's alerts: notifications %v, want the existing %d", got, existing)
		}
		if n := notification(t, db, existing); n.Subject != "earlier" {
			t.Errorf("the existing notification was rewritten: %+v", n)
		}
	})
}

func TestAddNotification(t *testing.T) {
	t.Parallel()
	valid := dvcwatch.NewNotification{DedupeKey: "summary:UBND-XA-01:2026-03-02", Kind: dvcwatch.NotificationSummary,
		Recipient: "office", Email: "vanphong@ungtoa.gov.vn", Subject: "Tổng hợp", Text: "t", HTML: "h", Items: 3}
	invalid := []struct {
		name string
		edit func(*dvcwatch.NewNotification)
	}{
		{"no dedupe key", func(n *dvcwatch.NewNotification) { n.DedupeKey = "" }},
		{"no recipient", func(n *dvcwatch.NewNotification) { n.Recipient = "" }},
		{"no email", func(n *dvcwatch.NewNotification) { n.Email = "" }},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if has, err := db.HasNotification(ctx, valid.DedupeKey); err != nil || has {
			t.Fatalf("HasNotification before it is added = %v, %v", has, err)
		}
		id, created, err := db.AddNotification(ctx, valid, hour(1))
		if err != nil || !created || id <= 0 {
			t.Fatalf("AddNotification = %d, %v, %v", id, created, err)
		}
		if has, err := db.HasNotification(ctx, valid.DedupeKey); err != nil || !has {
			t.Errorf("HasNotification once added = %v, %v", has, err)
		}
		second := valid
		second.Subject = "another"
		id2, created, err := db.AddNotification(ctx, second, hour(2))
		if err != nil || created || id2 != id {
			t.Errorf("the same key again = %d, created %v, %v; want %d, false", id2, created, err, id)
		}
		n := notification(t, db, id)
		if !messageIDRe.MatchString(n.MessageID) {
			t.Errorf("Message-ID %q, want dvcwatch.notification.<uuid>", n.MessageID)
		}
		want := dvcwatch.Notification{ID: id, DedupeKey: valid.DedupeKey, Kind: valid.Kind, Recipient: valid.Recipient,
			Email: valid.Email, Subject: valid.Subject, Text: valid.Text, HTML: valid.HTML, Items: 3, CreatedAt: hour(1).UTC(),
			MessageID: n.MessageID}
		if !reflect.DeepEqual(n, want) {
			t.Errorf("stored %+v\nwant %+v", n, want)
		}
		for _, c := range invalid {
			bad := valid
			bad.DedupeKey += ":" + c.name
			c.edit(&bad)
			if _, _, err := db.AddNotification(ctx, bad, hour(1)); err == nil {
				t.Errorf("%s: no error", c.name)
			}
		}
		if ns, err := db.Notifications(ctx, 10); err != nil || len(ns) != 1 {
			t.Errorf("Notifications = %d rows, %v; want 1", len(ns), err)
		}
		if _, err := db.GetNotification(ctx, id+100); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("GetNotification of an unknown id: error %v, want ErrNotFound", err)
		}
	})
}

func TestUndeliveredAndEnqueued(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ids []int64
		// Created in reverse id order of time: Undelivered is by creation time.
		for i, at := range []time.Time{hour(3), hour(1), hour(2)} {
			id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprint("n", i), Kind: dvcwatch.NotificationAlerts,
				Recipient: "binh", Email: "binh@ungtoa.gov.vn"}, at)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		n3, n1, n2 := ids[0], ids[1], ids[2]
		undelivered := func(before time.Time, limit int) []int64 {
			t.Helper()
			ids, err := db.Undelivered(ctx, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			return append([]int64{}, ids...)
		}
		if err := db.MarkEnqueued(ctx, nil, hour(4)); err != nil {
			t.Errorf("MarkEnqueued of nothing: %v", err)
		}
		if err := db.MarkEnqueued(ctx, []int64{n1, n3}, hour(4)); err != nil {
			t.Fatal(err)
		}
		if got := notification(t, db, n1).EnqueuedAt; !got.Equal(hour(4)) {
			t.Errorf("enqueued_at = %v, want %v", got, hour(4))
		}
		cases := []struct {
			name   string
			before time.Time
			limit  int
			want   []int64
		}{
			{"enqueued at the threshold are not due", hour(4), 10, []int64{n2}},
			{"enqueued before the threshold are due again", hour(4).Add(time.Microsecond), 10, []int64{n1, n2, n3}},
			{"limit", hour(5), 2, []int64{n1, n2}},
			{"never enqueued are always due", time.Time{}, 10, []int64{n2}},
		}
		for _, c := range cases {
			if got := undelivered(c.before, c.limit); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: Undelivered = %v, want %v", c.name, got, c.want)
			}
		}
		if err := db.MarkSent(ctx, n1, hour(5)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimNotification(ctx, n3, hour(5), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkAttemptFailed(ctx, n3, hour(5), "550 mailbox unavailable", true); err != nil {
			t.Fatal(err)
		}
		if got := undelivered(hour(6), 10); !reflect.DeepEqual(got, []int64{n2}) {
			t.Errorf("after one sent and one failed: Undelivered = %v, want %v", got, []int64{n2})
		}
	})
}

// TestUndeliveredSkipsUnreadable: a row with a time that does not parse
// (SQLite keeps times as text) is left out of Undelivered and named, with
// its id, by the error that comes with the other rows; reading it alone
// fails.
func TestUndeliveredSkipsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SQLite(t)
	var ids []int64
	for i := range 3 {
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprint("n", i), Kind: dvcwatch.NotificationAlerts,
			Recipient: "binh", Email: "binh@ungtoa.gov.vn"}, hour(i+1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := store.SQLX(db).ExecContext(ctx, `UPDATE notifications SET created_at = '2026-13-45 25:61' WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	ns, err := db.Undelivered(ctx, hour(9), 10)
	var bad *dvcwatch.UnreadableNotifications
	if !errors.As(err, &bad) || len(bad.Rows) != 1 || bad.Rows[0].ID != ids[1] || !strings.Contains(bad.Rows[0].Err.Error(), "created_at") {
		t.Fatalf("Undelivered's error = %v, want row %d unreadable (created_at)", err, ids[1])
	}
	if want := []int64{ids[0], ids[2]}; !reflect.DeepEqual(ns, want) {
		t.Errorf("Undelivered read %v, want rows %v", ns, want)
	}
	if _, err := db.GetNotification(ctx, ids[1]); err == nil {
		t.Error("GetNotification of the unreadable row: no error")
	}
	if _, err := db.ClaimNotification(ctx, ids[1], hour(9), time.Minute); err == nil {
		t.Error("ClaimNotification of the unreadable row: no error")
	}
}

// TestOutboxReadsReadTheirIndex: on SQLite the outbox's frequent reads of
// state read an index alone, never the rows, whose state columns lie past
// the bodies: the counts by state notifications_state_idx (migration
// 00016), the dispatcher's read of undelivered rows
// notifications_undelivered_idx, in its order, without a sort (00018).
func TestOutboxReadsReadTheirIndex(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	for _, c := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"NotificationCounts", store.NotificationCountsQuery, nil, "SCAN notifications USING COVERING INDEX notifications_state_idx"},
		{"Undelivered", store.UndeliveredQuery(db), []any{"2026-01-01", 10}, "SCAN notifications USING COVERING INDEX notifications_undelivered_idx"},
	} {
		var plan []struct {
			ID, Parent, NotUsed int
			Detail              string
		}
		if err := store.SQLX(db).Select(&plan, "EXPLAIN QUERY PLAN "+c.query, c.args...); err != nil {
			t.Fatal(err)
		}
		if len(plan) != 1 || plan[0].Detail != c.want {
			t.Errorf("%s's plan = %+v, want one step: %s", c.name, plan, c.want)
		}
	}
}

func TestClaimAndDeliver(t *testing.T) {
	t.Parallel()
	const stale = 10 * time.Minute
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		counts := func(want map[string]int) {
			t.Helper()
			got, err := db.NotificationCounts(ctx)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("NotificationCounts = %v, %v; want %v", got, err, want)
			}
		}
		counts(map[string]int{"pending": 0, "sent": 0, "failed": 0})
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: "k", Kind: dvcwatch.NotificationAlerts,
			Recipient: "binh", Email: "binh@ungtoa.gov.vn", Subject: "s"}, hour(0))
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: "other", Kind: dvcwatch.NotificationAlerts,
			Recipient: "lan", Email: "lan@ungtoa.gov.vn"}, hour(0))
		if err != nil {
			t.Fatal(err)
		}
		claimed := hour(1)
		steps := []struct {
			name     string
			do       func() (dvcwatch.Notification, error)
			wantErr  error
			attempts int
			check    func(n dvcwatch.Notification)
		}{
			{"first claim", func() (dvcwatch.Notification, error) { return db.ClaimNotification(ctx, id, claimed, stale) }, nil, 1,
				func(n dvcwatch.Notification) {
					if !n.SendingAt.Equal(claimed) || n.Subject != "s" {
						t.Errorf("claimed = %+v", n)
					}
				}},
			{"claimed again at once", func() (dvcwatch.Notification, error) { return db.ClaimNotification(ctx, id, claimed, stale) },
				dvcwatch.ErrClaimed, 1, nil},
			{"claimed again exactly stale later", func() (dvcwatch.Notification, error) {
				return db.ClaimNotification(ctx, id, claimed.Add(stale), stale)
			}, dvcwatch.ErrClaimed, 1, nil},
			{"claimed again after stale", func() (dvcwatch.Notification, error) {
				claimed = claimed.Add(stale + time.Microsecond)
				return db.ClaimNotification(ctx, id, claimed, stale)
			}, nil, 2, func(n dvcwatch.Notification) {
				if !n.SendingAt.Equal(claimed) {
					t.Errorf("sending_at = %v, want %v", n.SendingAt, claimed)
				}
			}},
			{"failed attempt releases the claim", func() (dvcwatch.Notification, error) {
				if err := db.MarkAttemptFailed(ctx, id, claimed, "dial tcp: i/o timeout", false); err != nil {
					t.Fatal(err)
				}
				n := notification(t, db, id)
				if !n.SendingAt.IsZero() || !n.FailedAt.IsZero() || n.LastError != "dial tcp: i/o timeout" {
					t.Errorf("after a failed attempt: %+v", n)
				}
				counts(map[string]int{"pending": 2, "sent": 0, "failed": 0})
				return db.ClaimNotification(ctx, id, claimed, stale)
			}, nil, 3, nil},
			{"final failure", func() (dvcwatch.Notification, error) {
				long := strings.Repeat("ệ", 400) // 1,200 bytes
				if err := db.MarkAttemptFailed(ctx, id, hour(2), long, true); err != nil {
					t.Fatal(err)
				}
				n := notification(t, db, id)
				if !n.FailedAt.Equal(hour(2)) || !n.SendingAt.IsZero() || len(n.LastError) > 1000 ||
					!utf8.ValidString(n.LastError) || !strings.HasPrefix(long, n.LastError) || len(n.LastError) < 990 {
					t.Errorf("after the final failure: failed_at %v, sending_at %v, last_error of %d bytes",
						n.FailedAt, n.SendingAt, len(n.LastError))
				}
				counts(map[string]int{"pending": 1, "sent": 0, "failed": 1})
				// An administrator's retry claims it at once.
				return db.ClaimNotification(ctx, id, hour(3), stale)
			}, nil, 4, func(n dvcwatch.Notification) {
				if !n.FailedAt.Equal(hour(2)) {
					t.Errorf("claimed for a retry: failed_at %v, want still %v", n.FailedAt, hour(2))
				}
			}},
			{"sent", func() (dvcwatch.Notification, error) {
				if err := db.MarkSent(ctx, id, hour(3)); err != nil {
					t.Fatal(err)
				}
				n := notification(t, db, id)
				if !n.SentAt.Equal(hour(3)) || !n.FailedAt.IsZero() || !n.SendingAt.IsZero() || n.LastError != "" {
					t.Errorf("after MarkSent: %+v", n)
				}
				counts(map[string]int{"pending": 1, "sent": 1, "failed": 0})
				return db.ClaimNotification(ctx, id, hour(4), stale)
			}, dvcwatch.ErrAlreadySent, 4, func(n dvcwatch.Notification) {
				if n.ID != id || !n.SentAt.Equal(hour(3)) {
					t.Errorf("ErrAlreadySent with %+v", n)
				}
			}},
			{"a late failure report does not undo the send", func() (dvcwatch.Notification, error) {
				if err := db.MarkAttemptFailed(ctx, id, hour(4), "late", true); err != nil {
					t.Fatal(err)
				}
				counts(map[string]int{"pending": 1, "sent": 1, "failed": 0})
				return notification(t, db, id), nil
			}, nil, 4, func(n dvcwatch.Notification) {
				if !n.FailedAt.IsZero() || n.LastError != "" {
					t.Errorf("after a late failure report: %+v", n)
				}
			}},
			{"unknown id", func() (dvcwatch.Notification, error) { return db.ClaimNotification(ctx, other+100, hour(4), stale) },
				dvcwatch.ErrNotFound, -1, nil},
		}
		msgID := notification(t, db, id).MessageID
		for _, s := range steps {
			n, err := s.do()
			if s.wantErr == nil && err != nil || s.wantErr != nil && !errors.Is(err, s.wantErr) {
				t.Errorf("%s: error %v, want %v", s.name, err, s.wantErr)
				continue
			}
			if s.attempts >= 0 && n.MessageID != msgID {
				t.Errorf("%s: Message-ID %q, want %q as on every attempt", s.name, n.MessageID, msgID)
			}
			if s.attempts >= 0 {
				if got := notification(t, db, id).Attempts; got != s.attempts {
					t.Errorf("%s: attempts %d, want %d", s.name, got, s.attempts)
				}
			}
			if s.check != nil {
				s.check(n)
			}
		}
		if n := notification(t, db, other); n.Attempts != 0 || !n.SendingAt.IsZero() {
			t.Errorf("the other notification was touched: %+v", n)
		}
		ns, err := db.Notifications(ctx, 10)
		if err != nil || len(ns) != 2 || ns[0].ID != other || ns[1].ID != id {
			t.Errorf("Notifications = %+v, %v; want newest first", ns, err)
		}
	})
}

var messageIDRe = regexp.MustCompile(`^dvcwatch\.notification\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// idSender records the Message-ID of every email it is given; the first fail
// sends fail with a transient error.
type idSender struct {
	fail int
	ids  []string
}

func (s *idSender) SendAndRecord(_ context.Context, m email.Message, record func() error) error {
	s.ids = append(s.ids, m.MessageID)
	if len(s.ids) <= s.fail {
		return errors.New("dial tcp: i/o timeout")
	}
	return record()
}

// TestMessageIDUnique: the Message-ID is chosen when the row is written, so
// two installations (or one database rebuilt), whose row ids both start at 1,
// do not give their first emails the same one; every attempt at a row sends
// the one stored.
func TestMessageIDUnique(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) *store.DB{
		store.DriverSQLite: storetest.SQLite, store.DriverPostgres: storetest.Postgres,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			n := dvcwatch.NewNotification{DedupeKey: "alerts:binh:1", Kind: dvcwatch.NotificationAlerts,
				Recipient: "binh", Email: "binh@ungtoa.gov.vn", Subject: "s", Text: "t"}
			var ids []string
			for range 2 {
				db := open(t)
				id, _, err := db.AddNotification(ctx, n, hour(1))
				if err != nil || id != 1 {
					t.Fatalf("AddNotification = %d, %v; want row 1 in a new store", id, err)
				}
				got := notification(t, db, id).MessageID
				if !messageIDRe.MatchString(got) {
					t.Errorf("Message-ID %q, want dvcwatch.notification.<uuid>", got)
				}
				ids = append(ids, got)

				// A first attempt fails, the retry delivers: both carry the stored Message-ID.
				s := &idSender{fail: 1}
				d := &notify.Deliverer{Store: db, Sender: s, MessageDomain: "dvcwatch.example",
					Logger: slog.New(slog.DiscardHandler), Clock: &clock{now: hour(2)}}
				if err := d.Deliver(ctx, id, false); err == nil {
					t.Fatal("first attempt: no error, want the sender's")
				}
				if err := d.Deliver(ctx, id, false); err != nil {
					t.Fatal(err)
				}
				want := got + "@dvcwatch.example"
				if len(s.ids) != 2 || s.ids[0] != want || s.ids[1] != want {
					t.Errorf("attempts sent Message-IDs %q, want %q twice", s.ids, want)
				}
				if got := notification(t, db, id); got.SentAt.IsZero() || got.MessageID != ids[len(ids)-1] {
					t.Errorf("after delivery: %+v", got)
				}
			}
			if ids[0] == ids[1] {
				t.Errorf("two stores gave row 1 the same Message-ID %q", ids[0])
			}
		})
	}
}

// TestMigrationKeepsOldMessageIDs: a row written before migration 13 keeps
// the Message-ID it was (or would have been) sent with, derived from its id,
// so that a retry of it is the same message; rows written after get their own.
func TestMigrationKeepsOldMessageIDs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := store.MigrateDownTo(ctx, db, 12); err != nil {
			t.Fatal(err)
		}
		x := store.SQLX(db)
		at := hour(0).UTC().Format("2006-01-02T15:04:05.000000Z")
		for _, key := range []string{"old:1", "old:2"} {
			q := `INSERT INTO notifications (dedupe_key, kind, recipient, email, subject, body_text, body_html, created_at)
				VALUES (?, 'alerts', 'binh', 'binh@ungtoa.gov.vn', 's', 't', 'h', ?)`
			if _, err := x.ExecContext(ctx, x.Rebind(q), key, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{1, 2} {
			if got, want := notification(t, db, id).MessageID, dvcwatch.LegacyMessageID(id); got != want {
				t.Errorf("row %d written before the migration: Message-ID %q, want %q", id, got, want)
			}
		}
		id, _, err := db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: "new", Kind: dvcwatch.NotificationAlerts,
			Recipient: "binh", Email: "binh@ungtoa.gov.vn"}, hour(1))
		if err != nil {
			t.Fatal(err)
		}
		if got := notification(t, db, id).MessageID; !messageIDRe.MatchString(got) {
			t.Errorf("row %d written after the migration: Message-ID %q, want dvcwatch.notification.<uuid>", id, got)
		}
	})
}

// TestBreachesByRecipient: the list a digest links to holds the breaches its
// recipient was told of.
func TestBreachesByRecipient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		breaches := seedAlerts(t, db)
		for recipient, want := range map[string][]int64{
			"lan": {breaches["C"]}, "office": {breaches["A"]}, "binh": {breaches["B"], breaches["A"]}, "nobody": nil,
		} {
			bs, err := db.Breaches(context.Background(), store.BreachFilter{Recipient: recipient})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, b := range bs {
				got = append(got, b.ID)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: breaches %v, want %v", recipient, got, want)
			}
		}
	})
}

// TestPendingAlertsByDossier: a recipient's pending alerts come a dossier's
// together, dossiers in key order and each one's alerts in the order they
// were decided, however their ids interleave; alerts of resolved breaches are
// left out; a reader that stops early leaves the store usable.
func TestPendingAlertsByDossier(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDossiers(t, db, "A", "B", "C")
		plan := func(_ time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
			var out []dvcwatch.AlertIntent
			for _, s := range open {
				if len(s.Told) == 0 {
					out = append(out, dvcwatch.AlertIntent{BreachID: s.ID, Recipient: "binh", Role: dvcwatch.RoleOfficial,
						Severity: s.Severity, Reason: dvcwatch.AlertNew})
				}
			}
			return out
		}
		overdue := func(code string) dvcwatch.Breach {
			return brc(dvcwatch.BreachOverdue, code, 0, dvcwatch.SeverityWarning)
		}
		// B's alert is decided first, A's step breach and C's last.
		applyBreaches(t, db, detect.Page{Now: hour(1), Plan: plan, Dossiers: []dvcwatch.Evaluation{eval("B", overdue("B")), eval("A", overdue("A"))}})
		applyBreaches(t, db, detect.Page{Now: hour(2), Plan: plan, Dossiers: []dvcwatch.Evaluation{
			eval("A", overdue("A"), brc(dvcwatch.BreachStepOverdue, "A", 1, dvcwatch.SeverityWarning)), eval("C", overdue("C")),
		}})
		applyBreaches(t, db, detect.Page{Now: hour(3), Plan: plan, Dossiers: []dvcwatch.Evaluation{eval("C")}}) // C's resolves

		read := func(limit int) []dvcwatch.PendingAlert {
			t.Helper()
			var out []dvcwatch.PendingAlert
			for a, err := range db.PendingAlerts(ctx, "binh") {
				if err != nil {
					t.Fatal(err)
				}
				if out = append(out, a); len(out) == limit {
					break
				}
			}
			return out
		}
		if got := read(1); len(got) != 1 || got[0].Breach.Key.Code != "A" {
			t.Fatalf("first alert %+v, want A's", got)
		}
		got := read(-1)
		var seen []string
		for _, a := range got {
			seen = append(seen, fmt.Sprintf("%s/%s", a.Breach.Key.Code, a.Breach.Kind))
		}
		want := []string{"A/overdue", "A/step_overdue", "B/overdue"}
		if !reflect.DeepEqual(seen, want) {
			t.Fatalf("pending alerts %v, want %v", seen, want)
		}
		if !(got[0].ID < got[1].ID && got[2].ID < got[0].ID) {
			t.Errorf("ids %d, %d, %d: want A's in the order decided, B's decided first", got[0].ID, got[1].ID, got[2].ID)
		}
		if a := got[0]; a.Recipient != "binh" || a.Role != dvcwatch.RoleOfficial || a.Breach.ApplicantName != "Nguyễn Văn A" {
			t.Errorf("alert %+v", a)
		}
	})
}
