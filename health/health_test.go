package health_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/health"
	"github.com/dvcwatch/dvcwatch/lease"
)

var (
	ict = time.FixedZone("ICT", 7*3600)
	t0  = time.Date(2026, 3, 2, 8, 0, 0, 0, ict) // a Monday morning in Hanoi
)

// The errors of the tests: a rejected login is permanent, a portal down is not.
var (
	errRejected = fmt.Errorf(`onestop "onestop": token: bad credentials for user "dvcwatch": HTTP 401 Unauthorized: %w`, connectors.ErrPermanent)
	errDown     = errors.New(`onestop "onestop": token: gave up after 6 attempts: HTTP 502 Bad Gateway`)
)

func TestNext(t *testing.T) {
	t.Parallel()
	at := t0.Add(time.Hour)
	ok := dvcwatch.ConnectorHealth{Connector: "onestop", State: dvcwatch.ConnectorOK, Since: t0, LastSuccess: t0, Version: 4}
	failing := dvcwatch.ConnectorHealth{Connector: "onestop", State: dvcwatch.ConnectorFailing, Since: t0, LastSuccess: t0.Add(-time.Hour),
		LastError: errDown.Error(), LastErrorAt: t0, Cause: dvcwatch.CausePortalUnreachable, Failures: 2, Version: 4}
	stopped := dvcwatch.ConnectorHealth{Connector: "onestop", State: dvcwatch.ConnectorStopped, Since: t0, LastSuccess: t0.Add(-time.Hour),
		LastError: errRejected.Error(), LastErrorAt: t0, Cause: dvcwatch.CausePortalCredentials, Failures: 1, Fingerprint: "old", Version: 4}

	cases := []struct {
		name    string
		before  dvcwatch.ConnectorHealth
		err     error
		want    dvcwatch.ConnectorHealth
		event   health.Event
		changed bool
	}{
		{"first success", dvcwatch.ConnectorHealth{Connector: "onestop"}, nil,
			dvcwatch.ConnectorHealth{Connector: "onestop", State: dvcwatch.ConnectorOK, Since: at, LastSuccess: at}, health.EventNone, true},
		{"success after success", ok, nil, with(ok, func(h *dvcwatch.ConnectorHealth) { h.LastSuccess = at }), health.EventNone, true},
		{"first transient failure", ok, errDown, with(ok, func(h *dvcwatch.ConnectorHealth) {
			h.State, h.Since, h.Failures = dvcwatch.ConnectorFailing, at, 1
			h.LastError, h.LastErrorAt, h.Cause = errDown.Error(), at, dvcwatch.CausePortalUnreachable
		}), health.EventNone, true},
		{"another transient failure", failing, errDown, with(failing, func(h *dvcwatch.ConnectorHealth) {
			h.Failures, h.LastErrorAt = 3, at
		}), health.EventNone, true},
		{"transient failure then success", failing, nil, with(failing, func(h *dvcwatch.ConnectorHealth) {
			h.State, h.Since, h.LastSuccess, h.Failures = dvcwatch.ConnectorOK, at, at, 0
		}), health.EventNone, true},
		{"permanent failure stops it", failing, errRejected, with(failing, func(h *dvcwatch.ConnectorHealth) {
			h.State, h.Since, h.Failures, h.Fingerprint = dvcwatch.ConnectorStopped, at, 3, "new"
			h.LastError, h.LastErrorAt, h.Cause = errRejected.Error(), at, dvcwatch.CausePortalCredentials
		}), health.EventStopped, true},
		{"permanent failure again: the same stop, the new configuration", stopped, errRejected, with(stopped, func(h *dvcwatch.ConnectorHealth) {
			h.Failures, h.LastErrorAt, h.Fingerprint = 2, at, "new"
		}), health.EventNone, true},
		{"transient failure while stopped changes nothing", stopped, errDown, stopped, health.EventNone, false},
		{"success ends the stop", stopped, nil, with(stopped, func(h *dvcwatch.ConnectorHealth) {
			h.State, h.Since, h.LastSuccess, h.Failures, h.Fingerprint = dvcwatch.ConnectorOK, at, at, 0, ""
		}), health.EventRecovered, true},
		{"another pass held the lease", stopped, fmt.Errorf("sync onestop: %w", lease.ErrBusy), stopped, health.EventNone, false},
		{"shutting down", failing, fmt.Errorf("sync onestop: %w", context.Canceled), failing, health.EventNone, false},
		{"the database, not the portal", ok, errors.New("sync onestop: store page: database is locked (5) (SQLITE_BUSY)"), ok, health.EventNone, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ev, changed := health.Next(c.before, health.Outcome{Err: c.err, At: at}, "new")
			if got != c.want || ev != c.event || changed != c.changed {
				t.Errorf("Next = %+v, %v, %t\nwant %+v, %v, %t", got, ev, changed, c.want, c.event, c.changed)
			}
		})
	}
}

func with(h dvcwatch.ConnectorHealth, edit func(*dvcwatch.ConnectorHealth)) dvcwatch.ConnectorHealth {
	edit(&h)
	return h
}

func TestSMTP(t *testing.T) {
	t.Parallel()
	down := "send email <a@x> via smtp.x.example:587: dial failed: dial tcp 10.0.0.5:587: connect: connection refused"
	rejected := "send email <a@x> via smtp.x.example:587: rejected by the SMTP server: 550 no such user"
	sent := dvcwatch.DeliveryAttempt{At: t0, Sent: true}
	fail := func(msg string, min int) dvcwatch.DeliveryAttempt {
		return dvcwatch.DeliveryAttempt{At: t0.Add(time.Duration(min) * time.Minute), Error: msg}
	}
	for _, c := range []struct {
		name     string
		attempts []dvcwatch.DeliveryAttempt
		failing  bool
		failed   int
	}{
		{"nothing attempted yet", nil, false, 0},
		{"the last three failed", []dvcwatch.DeliveryAttempt{fail(down, 3), fail(down, 2), fail(down, 1), sent}, true, 3},
		{"one good among them", []dvcwatch.DeliveryAttempt{fail(down, 3), fail(down, 2), sent}, false, 2},
		{"a rejected recipient is not the server", []dvcwatch.DeliveryAttempt{fail(down, 3), fail(rejected, 2), fail(down, 1)}, false, 2},
		{"a new installation whose first email failed", []dvcwatch.DeliveryAttempt{fail(down, 1)}, true, 1},
	} {
		s := health.SMTP(c.attempts, t0)
		if s.Failing != c.failing || s.Failed != c.failed || !s.LastSent.Equal(t0) {
			t.Errorf("%s: %+v, want failing %t with %d failed", c.name, s, c.failing, c.failed)
		}
		if c.failed > 0 && (s.LastError != down || !s.LastErrorAt.Equal(c.attempts[0].At)) {
			t.Errorf("%s: last error %q at %v, want the newest failure's", c.name, s.LastError, s.LastErrorAt)
		}
	}
}

// TestFingerprint: the same configuration matches, a changed password or any
// other field does not, and the fingerprint shows no secret.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	k := config.Connector{Name: "onestop", Kind: config.KindOneStop, BaseURL: "https://motcua.example", Username: "giamsat",
		Password: config.NewSecret("mật-khẩu-cũ"), Timeout: 30 * time.Second, RateLimit: 5, Burst: 1, PageSize: 100}
	fp, err := health.Fingerprint(k)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fp, "pbkdf2-sha256$600000$") || strings.Contains(fp, "mật") || strings.Contains(fp, "giamsat") {
		t.Errorf("fingerprint %q", fp)
	}
	if again, _ := health.Fingerprint(k); again == fp {
		t.Error("two fingerprints of one configuration share their salt")
	}
	if !health.Matches(fp, k) {
		t.Error("the configuration does not match its own fingerprint")
	}
	for name, edit := range map[string]func(*config.Connector){
		"password":  func(k *config.Connector) { k.Password = config.NewSecret("mật-khẩu-mới") },
		"username":  func(k *config.Connector) { k.Username = "giamsat2" },
		"base_url":  func(k *config.Connector) { k.BaseURL = "https://motcua2.example" },
		"page_size": func(k *config.Connector) { k.PageSize = 50 },
	} {
		changed := k
		edit(&changed)
		if health.Matches(fp, changed) {
			t.Errorf("a changed %s matches the old fingerprint", name)
		}
	}
	for _, bad := range []string{"", "old", "pbkdf2-sha256$x$a$b", "pbkdf2-sha256$1$!!$b", "md5$1$YQ$Yg"} {
		if health.Matches(bad, k) {
			t.Errorf("%q matches", bad)
		}
	}
}
