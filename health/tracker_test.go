package health_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// healthStore is *store.DB as the tracker uses it.
type healthStore struct{ *store.DB }

func (s healthStore) InTx(ctx context.Context, fn func(health.Tx) error) error {
	return health.TxOf(s.DB.InTx)(ctx, fn)
}

// trackerConfig has one connector with password and two administrators.
func trackerConfig(password string) *config.Config {
	return &config.Config{
		Connectors: []config.Connector{{Name: "onestop", Kind: config.KindOneStop, BaseURL: "https://motcua.example",
			Username: "giamsat", Password: config.NewSecret(password)}},
		Schedules: []config.Schedule{{Name: "sync-onestop", Cron: "@every 1m", Job: config.JobSync, Connector: "onestop"}},
		Notify:    config.Notify{Admins: []string{"it@x.example", "vanphong@x.example"}},
	}
}

type trackerBundle struct {
	db   *store.DB
	now  time.Time
	sent [][]int64 // what Send was handed
}

func (b *trackerBundle) tracker(password string) *health.Tracker {
	return health.New(health.Options{Store: healthStore{b.db}, Config: trackerConfig(password),
		Clock: clock.Func(func() time.Time { return b.now }), Logger: slog.New(slog.DiscardHandler),
		Send: func(_ context.Context, ids []int64) error { b.sent = append(b.sent, ids); return nil }})
}

func (b *trackerBundle) operatorEmails(t *testing.T) []dvcwatch.Notification {
	t.Helper()
	ns, err := b.db.Notifications(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []dvcwatch.Notification
	for _, n := range ns {
		if n.Kind == dvcwatch.NotificationOperator {
			out = append(out, n)
		}
	}
	return out
}

// TestTrackerStopsAndRecoversOnce follows a rejected password: the first
// permanent failure stops the connector and mails each administrator once;
// later scheduled runs are refused with the reason, runs by hand and runs
// with another configuration are not; repeated failures mail no one again;
// the success that follows a fix mails the recovery once.
func TestTrackerStopsAndRecoversOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := &trackerBundle{db: storetest.SQLite(t), now: t0}
	tr := b.tracker("wrong")

	if err := tr.Gate(ctx, "onestop", false); err != nil {
		t.Fatalf("gate of a connector that never synced: %v", err)
	}
	tr.Record(ctx, "onestop", errRejected)
	stoppedAt := b.now
	for range 3 { // later ticks, as a replica that did not see the stop would record them
		b.now = b.now.Add(time.Minute)
		tr.Record(ctx, "onestop", errRejected)
	}
	emails := b.operatorEmails(t)
	if len(emails) != 2 || len(b.sent) != 1 || len(b.sent[0]) != 2 {
		t.Fatalf("stop emails %d (sent %v), want one to each of the 2 administrators", len(emails), b.sent)
	}
	for _, n := range emails {
		if !strings.Contains(n.Subject, "onestop đã dừng") || !strings.Contains(n.Text, "08:00 ngày 02/03/2026") ||
			!strings.Contains(n.Text, "Cổng từ chối tài khoản đăng nhập") || !strings.Contains(n.Text, "dvcwatch schedules run sync-onestop") ||
			strings.Contains(n.Text, "wrong") {
			t.Errorf("stop email to %s:\n%s\n%s", n.Email, n.Subject, n.Text)
		}
	}

	err := tr.Gate(ctx, "onestop", false)
	want := "connector onestop: stopped after a permanent failure at 2026-03-02 08:00 +07: portal credentials rejected; " +
		"fix the configuration or run it by hand (dvcwatch schedules run sync-onestop)"
	if !errors.Is(err, dvcwatch.ErrConnectorStopped) || err.Error() != want {
		t.Errorf("gate of a scheduled run: %v\nwant %s", err, want)
	}
	if err := tr.Gate(ctx, "onestop", true); err != nil {
		t.Errorf("gate of a run by hand: %v", err)
	}
	st, err := tr.Connectors(ctx)
	if err != nil || len(st) != 1 || st[0].State != dvcwatch.ConnectorStopped || !st[0].Since.Equal(stoppedAt) || st[0].ConfigChanged {
		t.Errorf("connectors = %+v, %v", st, err)
	}

	// The operator fixes the password: that replica runs its ticks again,
	// and shows the stop as about to be retried.
	fixed := b.tracker("right")
	if err := fixed.Gate(ctx, "onestop", false); err != nil {
		t.Errorf("gate with the configuration changed: %v", err)
	}
	if st, _ := fixed.Connectors(ctx); !st[0].ConfigChanged {
		t.Errorf("with another configuration: %+v, want the change seen", st[0])
	}
	b.now = b.now.Add(time.Minute)
	fixed.Record(ctx, "onestop", nil)
	fixed.Record(ctx, "onestop", nil)
	emails = b.operatorEmails(t)
	if len(emails) != 4 || len(b.sent) != 2 {
		t.Fatalf("%d operator emails (sent %v), want the 2 stops and one recovery to each", len(emails), b.sent)
	}
	for _, n := range emails[:2] { // newest first
		if !strings.Contains(n.Subject, "onestop đã hoạt động lại") || !strings.Contains(n.Text, "dừng từ 08:00 ngày 02/03/2026") {
			t.Errorf("recovery email to %s:\n%s\n%s", n.Email, n.Subject, n.Text)
		}
	}
	if err := tr.Gate(ctx, "onestop", false); err != nil {
		t.Errorf("gate after the recovery: %v", err)
	}

	// A new stop later is a new incident: told again.
	b.now = b.now.Add(24 * time.Hour)
	tr.Record(ctx, "onestop", errRejected)
	if n := len(b.operatorEmails(t)); n != 6 {
		t.Errorf("%d operator emails after a second stop, want 6", n)
	}
}

// TestReconcileWaitsForBothCopies: a reconciliation is refused until the
// mirror and its source of truth have each completed a sync (before, every
// dossier would look missing), even by hand, and while either is stopped; a
// sync of the other is not.
func TestReconcileWaitsForBothCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SQLite(t)
	cfg := trackerConfig("wrong")
	cfg.Connectors = append(cfg.Connectors, config.Connector{Name: "dvcqg", Kind: config.KindDVCQG, MirrorOf: "onestop"})
	tr := health.New(health.Options{Store: healthStore{db}, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	for _, manual := range []bool{false, true} {
		err := tr.GateReconcile(ctx, "dvcqg", manual)
		if !errors.Is(err, dvcwatch.ErrNeverSynced) || err.Error() != "reconcile dvcqg: connector dvcqg has not completed a sync yet: nothing to compare yet" {
			t.Errorf("neither synced yet (by hand: %t): %v", manual, err)
		}
	}
	tr.Record(ctx, "dvcqg", nil)
	if err := tr.GateReconcile(ctx, "dvcqg", false); !errors.Is(err, dvcwatch.ErrNeverSynced) || !strings.Contains(err.Error(), "connector onestop has not") {
		t.Errorf("the source of truth not synced yet: %v", err)
	}
	tr.Record(ctx, "onestop", nil)
	if err := tr.GateReconcile(ctx, "dvcqg", false); err != nil {
		t.Fatalf("both synced, nothing stopped: %v", err)
	}
	tr.Record(ctx, "onestop", errRejected)
	err := tr.GateReconcile(ctx, "dvcqg", false)
	if !errors.Is(err, dvcwatch.ErrConnectorStopped) || !strings.HasPrefix(err.Error(), "reconcile dvcqg with its source of truth: connector onestop: stopped") {
		t.Errorf("source of truth stopped: %v", err)
	}
	if err := tr.Gate(ctx, "dvcqg", false); err != nil {
		t.Errorf("a sync of the mirror: %v", err)
	}
	if err := tr.GateReconcile(ctx, "dvcqg", true); err != nil {
		t.Errorf("a reconciliation by hand: %v", err)
	}
}

// TestTrackerWithoutAdmins still stops the connector; nobody is mailed.
func TestTrackerWithoutAdmins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SQLite(t)
	cfg := trackerConfig("wrong")
	cfg.Notify.Admins = nil
	tr := health.New(health.Options{Store: healthStore{db}, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	tr.Record(ctx, "onestop", errRejected)
	if err := tr.Gate(ctx, "onestop", false); !errors.Is(err, dvcwatch.ErrConnectorStopped) {
		t.Errorf("gate = %v, want the stop", err)
	}
	if c, err := db.NotificationCounts(ctx); err != nil || c["pending"] != 0 {
		t.Errorf("outbox %v, %v; want nothing", c, err)
	}
}
