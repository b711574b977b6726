package admin_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// apiHealthConfig configures two connectors; password is onestop's.
func apiHealthConfig(password string) *config.Config {
	return &config.Config{Connectors: []config.Connector{
		{Name: "dvcqg", Kind: config.KindDVCQG, BaseURL: "https://dvc.example"},
		{Name: "onestop", Kind: config.KindOneStop, BaseURL: "https://motcua.example", Password: config.NewSecret(password)},
	}, Schedules: []config.Schedule{{Name: "sync", Job: config.JobSync, Connector: "onestop", Cron: "15 10 * * *"}}}
}

// TestAPIDashboardShowsFailures: the dashboard and GET /api/v1/health show
// every configured connector's health, the stopped one with its cause, and
// the mail server failing once its latest attempts all failed; the failed
// jobs carry their cause, stored or read from the text.
func TestAPIDashboardShowsFailures(t *testing.T) {
	var tr *health.Tracker
	b := apiSetup(t, func(o *admin.Options) {
		tr = health.New(health.Options{Store: worker.HealthStore(o.Store.(*store.DB)), Config: apiHealthConfig("wrong"), Logger: slog.New(slog.DiscardHandler)})
		o.Health = tr
	})
	ctx := context.Background()

	var d admin.Dashboard
	b.do(t, "GET", "/api/v1/dashboard", "", apiBearer(apiViewerToken)).want(t, 200, "dashboard").decode(t, &d)
	if len(d.Connectors) != 2 || d.Connectors[0].Name != "dvcqg" || d.Connectors[0].State != "ok" || d.Connectors[0].Since != nil ||
		d.SMTP == nil || d.SMTP.Failing || d.SMTP.RecentAttempts != 0 {
		t.Errorf("dashboard before any failure: connectors %+v, smtp %+v", d.Connectors, d.SMTP)
	}

	stoppedAt := time.Now()
	tr.Record(ctx, "onestop", fmt.Errorf(`onestop "onestop": token: bad credentials for user "giamsat": HTTP 401 Unauthorized: %w`, connectors.ErrPermanent))
	tr.Record(ctx, "dvcqg", errors.New(`dvcqg "dvcqg": login: gave up after 6 attempts: no complete reply within 30s`))
	for i := range 3 {
		id, _, err := b.db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprintf("k%d", i), Kind: dvcwatch.NotificationAlerts,
			Recipient: "binh", Email: "binh@x.example", Subject: "s", Text: "t"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.ClaimNotification(ctx, id, time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := b.db.MarkAttemptFailed(ctx, id, time.Now(), "send email <x> via smtp.x.example:587: dial tcp: connect: connection refused", false); err != nil {
			t.Fatal(err)
		}
	}

	var ops admin.Operations
	b.do(t, "GET", "/api/v1/health", "", apiBearer(apiViewerToken)).want(t, 200, "health").decode(t, &ops)
	d = admin.Dashboard{}
	b.do(t, "GET", "/api/v1/dashboard", "", apiBearer(apiViewerToken)).want(t, 200, "dashboard").decode(t, &d)
	for where, o := range map[string]admin.Operations{"health": ops, "dashboard": d.Operations} {
		if len(o.Connectors) != 2 {
			t.Fatalf("%s: connectors %+v", where, o.Connectors)
		}
		dvcqg, onestop := o.Connectors[0], o.Connectors[1]
		if dvcqg.State != "failing" || dvcqg.Cause != "portal_unreachable" || dvcqg.Failures != 1 || dvcqg.LastSuccess != nil {
			t.Errorf("%s: dvcqg %+v, want failing, unreachable", where, dvcqg)
		}
		if onestop.State != "stopped" || onestop.Cause != "portal_credentials" || onestop.Since == nil ||
			onestop.Since.Sub(stoppedAt).Abs() > 5*time.Second || !strings.Contains(onestop.LastError, "bad credentials") ||
			onestop.ConfigChanged {
			t.Errorf("%s: onestop %+v, want stopped with its cause", where, onestop)
		}
		if m := o.SMTP; m == nil || !m.Failing || m.RecentAttempts != 3 || m.RecentFailed != 3 || m.LastSent != nil ||
			m.Cause != "mail_unreachable" || !strings.Contains(m.LastError, "connection refused") {
			t.Errorf("%s: smtp %+v, want failing", where, m)
		}
	}

	// Failed jobs carry their cause: as recorded, or read from a text
	// recorded without one; so do archived tasks.
	for _, f := range []dvcwatch.FailedTask{
		{TaskID: "sync-onestop@1", Queue: "dvcwatch", Type: "sync:connector", Payload: "{}", Error: "x", Cause: dvcwatch.CausePortalCredentials, FailedAt: time.Now()},
		{TaskID: "notification:9", Queue: "dvcwatch", Type: "notify:deliver", Payload: "{}", FailedAt: time.Now().Add(time.Second),
			Error: "notification 9: undeliverable: send email <x> via s:25: rejected by the SMTP server: 550 no such user"},
	} {
		if err := b.db.RecordFailedTask(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	var fs []admin.FailedTask
	b.do(t, "GET", "/api/v1/jobs/failed", "", apiBearer(apiViewerToken)).want(t, 200, "failed").decode(t, &fs)
	if len(fs) != 2 || fs[0].Cause != "mail_rejected" || fs[1].Cause != "portal_credentials" {
		t.Errorf("failed tasks %+v, want their causes", fs)
	}
}
