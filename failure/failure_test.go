package failure_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/dvcqg"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/notify"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/store"
)

// TestOf classifies the errors the real components give, and their messages
// as a stored failure keeps them (after the wrappers a sync task adds), the
// same way.
func TestOf(t *testing.T) {
	t.Parallel()
	sim := portalsim.New(portalsim.Options{Seed: 1, Dossiers: 20})
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	mail, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	mail.Reject("nobody@x.example")

	cases := []struct {
		name string
		err  error
		want dvcwatch.Cause
	}{
		{"onestop login with a wrong password", pull(t, config.KindOneStop, simSrv.URL, "wrong"), dvcwatch.CausePortalCredentials},
		{"dvcqg login with a wrong password", pull(t, config.KindDVCQG, simSrv.URL, "wrong"), dvcwatch.CausePortalCredentials},
		{"onestop token refused with 403", pull(t, config.KindOneStop, replying(t, 403, `{"error":"access_denied"}`), "p"), dvcwatch.CausePortalRefused},
		{"onestop token answers 429 past its retries", pull(t, config.KindOneStop, replying(t, 429, `{}`), "p"), dvcwatch.CausePortalBusy},
		{"onestop token busy in the body", pull(t, config.KindOneStop, replying(t, 200, `{"error":"temporarily_unavailable"}`), "p"), dvcwatch.CausePortalBusy},
		{"onestop token answers 502", pull(t, config.KindOneStop, replying(t, 502, `<html>Bad Gateway</html>`), "p"), dvcwatch.CausePortalUnreachable},
		{"onestop token answers broken JSON", pull(t, config.KindOneStop, replying(t, 200, `{"access_tok`), "p"), dvcwatch.CausePortalBadReply},
		{"dvcqg login answers an unknown error code", pull(t, config.KindDVCQG, replying(t, 200, `{"error_code":"77","message":"Đơn vị không tồn tại"}`), "p"), dvcwatch.CausePortalRefused},
		{"portal refuses connections", pull(t, config.KindOneStop, "http://"+closedAddr(t), "p"), dvcwatch.CausePortalUnreachable},
		{"mail server rejects the recipient", send(t, mail.Port(), "nobody@x.example"), dvcwatch.CauseMailRejected},
		{"mail server down", send(t, portOf(t, closedAddr(t)), "a@x.example"), dvcwatch.CauseMailUnreachable},
		{"a delivery the server rejected", fmt.Errorf("notification 5: %w: %w", notify.ErrUndeliverable, send(t, mail.Port(), "nobody@x.example")), dvcwatch.CauseMailRejected},
		{"a bad address", send(t, mail.Port(), "not an address"), dvcwatch.CauseMailRejected},
		{"mail server silent after the whole message", slowToAnswer(t), dvcwatch.CauseMailUncertain},
		{"PostgreSQL down", postgresDown(t), dvcwatch.CauseDatabase},
		{"PostgreSQL shutting down", fmt.Errorf("claim notification 3: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), dvcwatch.CauseDatabase},
		{"SQLite file cannot be opened", sqliteCannotOpen(t), dvcwatch.CauseDatabase},
		{"payload not JSON", process(t, jobs.TypeSync, `{`), dvcwatch.CauseBadPayload},
		{"payload without its connector", process(t, jobs.TypeSync, `{"connector":""}`), dvcwatch.CauseBadPayload},
		{"something else", errors.New("detect: evaluate page: rules version 3 unknown"), dvcwatch.CauseUnknown},
		{"a constraint violated", fmt.Errorf("record breaches: %w", &pgconn.PgError{Code: "23505", Message: "duplicate key"}), dvcwatch.CauseUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error to classify")
			}
			if got := failure.Of(c.err); got != c.want {
				t.Errorf("Of(%q) = %s, want %s", c.err, got, c.want)
			}
			// As the worker stores a sync task's failure: wrapped by ingest,
			// and archived at once when permanent.
			stored := c.err.Error()
			if errors.Is(c.err, connectors.ErrPermanent) {
				stored = fmt.Errorf("sync onestop: %w: %w", c.err, asynq.SkipRetry).Error()
			}
			if got := failure.OfText(stored); got != c.want {
				t.Errorf("OfText(%q) = %s, want %s", stored, got, c.want)
			}
		})
	}
	if failure.Of(nil) != "" || failure.OfText(" ") != "" {
		t.Error("no error has a cause")
	}
}

// TestOfTextStoredMessages classifies messages as failures recorded by
// earlier versions hold them, and as asynq keeps an archived task's error.
func TestOfTextStoredMessages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		msg  string
		want dvcwatch.Cause
	}{
		{`sync onestop: onestop "onestop": token: bad credentials for user "dvcwatch": HTTP 401 Unauthorized: {"error":"invalid_credentials"}: skip retry for the task`, dvcwatch.CausePortalCredentials},
		{`sync dvcqg: dvcqg "dvcqg": DanhSachHoSo 2026-03-01..2026-03-02: credentials rejected even after a fresh login: HTTP 401 Unauthorized`, dvcwatch.CausePortalCredentials},
		{`sync dvcqg: dvcqg "dvcqg": DanhSachHoSo 2026-03-02: portal error_code 413: the portal lists whole days, and 2026-03-02 alone holds more dossiers than it lists at once: skip retry for the task`, dvcwatch.CausePortalBadReply},
		{`sync onestop: onestop "mot-cua": page after 2026-03-01T00:00:00Z: gave up after 6 attempts: no complete reply within 30s`, dvcwatch.CausePortalUnreachable},
		{`sync onestop: onestop "mot-cua": page after 2026-03-01T00:00:00Z: gave up after 6 attempts: HTTP 503 Service Unavailable`, dvcwatch.CausePortalBusy},
		{`sync onestop: onestop "mot-cua": page: HTTP 404 Not Found: skip retry for the task`, dvcwatch.CausePortalRefused},
		{`notification 12: send email <dvcwatch.notification.12@x.example> via smtp.x.example:587: dial tcp 10.0.0.5:587: i/o timeout`, dvcwatch.CauseMailUnreachable},
		{`notification 12: undeliverable: send email <dvcwatch.notification.12@x.example> via smtp.x.example:587: rejected by the SMTP server: 550 5.1.1 no such user: skip retry for the task`, dvcwatch.CauseMailRejected},
		{`detect: read page: failed to connect to ` + "`" + `user=dvcwatch database=dvcwatch` + "`" + `: 10.0.0.2:5432 (db): dial error: dial tcp 10.0.0.2:5432: connect: connection refused`, dvcwatch.CauseDatabase},
		{`record job run of detect: database is locked (5) (SQLITE_BUSY)`, dvcwatch.CauseDatabase},
		{`sync:connector task: bad payload: unexpected end of JSON input: skip retry for the task`, dvcwatch.CauseBadPayload},
		{`portal answered 503 Service Unavailable`, dvcwatch.CauseUnknown}, // no connector said it
	} {
		if got := failure.OfText(c.msg); got != c.want {
			t.Errorf("OfText(%q) = %s, want %s", c.msg, got, c.want)
		}
	}
}

// TestEveryCauseIsExplained: the UI shows a Vietnamese title, explanation
// and action for every cause, and a value it does not know as unknown.
func TestEveryCauseIsExplained(t *testing.T) {
	t.Parallel()
	for _, c := range dvcwatch.Causes() {
		x := c.Text()
		if x.Title == "" || x.English == "" || x.Explain == "" || x.Action == "" {
			t.Errorf("%s: %+v", c, x)
		}
	}
	if dvcwatch.Cause("new").Text() != dvcwatch.CauseUnknown.Text() {
		t.Error("an unknown cause is not explained as unknown")
	}
}

// pull runs one pull of a connector of kind against baseURL with password,
// with one retry and no waits, and returns its error.
func pull(t *testing.T, kind config.ConnectorKind, baseURL, password string) error {
	t.Helper()
	cfg := config.Connector{Name: string(kind), Kind: kind, BaseURL: baseURL, Username: portalsim.DefaultUsername,
		Password: config.NewSecret(password), Timeout: 2 * time.Second, RateLimit: 1000, Burst: 10, PageSize: 50,
		Window: 24 * time.Hour, MaxRetries: 1}
	if kind == config.KindDVCQG {
		cfg.AgencyCode, cfg.AuthPath, cfg.ServicePath = portalsim.DefaultAgencyCode, "/api/auth", "/api/service"
	}
	if password != "wrong" {
		cfg.Password = config.NewSecret(portalsim.DefaultPassword)
	}
	opts := []httpx.Option{
		httpx.WithLogger(slog.New(slog.DiscardHandler)), httpx.WithBackoff(time.Millisecond, time.Millisecond),
		httpx.WithSleep(func(context.Context, time.Duration) error { return nil }),
	}
	var p connectors.Puller
	var err error
	if kind == config.KindDVCQG {
		p, err = dvcqg.New(cfg, opts...)
	} else {
		p, err = onestop.New(cfg, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Pull(ctx, connectors.Cursor{UpdatedAt: time.Now().Add(-time.Hour)}, func(context.Context, connectors.Batch) error { return nil })
}

// replying serves status and body to every request until the test ends.
func replying(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	_, _ = fmt.Sscan(port, &n)
	return n
}

// send sends one email to to through the mail server on port.
func send(t *testing.T, port int, to string) error {
	t.Helper()
	s, err := email.New(config.SMTP{Host: "127.0.0.1", Port: port, From: "canhbao@x.example", TLS: config.TLSNone, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), email.Message{To: []string{to}, Subject: "thử", Text: "thử", MessageID: "t.1"})
	if err == nil {
		t.Fatalf("sending to %s through port %d succeeded", to, port)
	}
	return err
}

// slowToAnswer is the error of a send whose end of message the server
// answers only after the timeout.
func slowToAnswer(t *testing.T) error {
	t.Helper()
	slow, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	slow.Hold()
	t.Cleanup(func() { slow.Release(); _ = slow.Close() })
	s, err := email.New(config.SMTP{Host: "127.0.0.1", Port: slow.Port(), From: "canhbao@x.example", TLS: config.TLSNone, Timeout: 300 * time.Millisecond, DataTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), email.Message{To: []string{"a@x.example"}, Subject: "thử", Text: "thử", MessageID: "t.2"})
	if err == nil {
		t.Fatal("a send the server never answered succeeded")
	}
	return err
}

// postgresDown is the error of a store on a PostgreSQL that is not there.
func postgresDown(t *testing.T) error {
	t.Helper()
	return queryError(t, store.DriverPostgres, "postgres://dvcwatch@"+closedAddr(t)+"/dvcwatch?sslmode=disable&connect_timeout=2")
}

// sqliteCannotOpen is the error of a store whose file's directory is missing.
func sqliteCannotOpen(t *testing.T) error {
	t.Helper()
	return queryError(t, store.DriverSQLite, filepath.Join(t.TempDir(), "missing", "x.db"))
}

// queryError opens a store that cannot work and returns the error of opening
// it or of its first query.
func queryError(t *testing.T, driver, dsn string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err = db.NotificationCounts(ctx); err == nil {
		t.Fatalf("a query on %s succeeded", dsn)
	}
	return err
}

// process runs a task of typ with payload through the handlers and returns
// its error.
func process(t *testing.T, typ, payload string) error {
	t.Helper()
	mux := asynq.NewServeMux()
	(&jobs.Handlers{}).Register(mux)
	err := mux.ProcessTask(context.Background(), asynq.NewTask(typ, []byte(payload)))
	if err == nil || !strings.Contains(err.Error(), "payload") {
		t.Fatalf("task %s %s: %v", typ, payload, err)
	}
	return err
}
