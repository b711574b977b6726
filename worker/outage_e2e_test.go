package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/redistest"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// TestOutagesAreTwoLinesAndReadyzNamesThem runs a worker on a Redis server of
// its own, which it stops and starts, and on PostgreSQL behind a TCP proxy it
// closes and opens: each outage is one line when it begins and one when it
// ends, and /readyz answers 503 naming what is down (and nothing of its
// address) until both are back.
func TestOutagesAreTwoLinesAndReadyzNamesThem(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	redisSrv := redistest.Start(t)
	_, dsn := storetest.PostgresDSN(t)
	pg := startProxy(t, postgresAddr(t, dsn))
	proxied := replaceHost(t, dsn, pg.addr)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, store.DriverPostgres, proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := &config.Config{
		Database:        config.Database{Driver: config.DriverPostgres, DSN: config.NewSecret(proxied)},
		Redis:           config.Redis{Addr: redisSrv.Addr},
		SMTP:            config.SMTP{Host: "127.0.0.1", Port: 2525, From: "canhbao@x.example", TLS: config.TLSNone, Timeout: time.Second},
		Admin:           config.Admin{Tokens: []config.Token{{Name: "ops", Role: config.AdminAdmin, Token: config.NewSecret("0123456789abcdef")}}},
		ShutdownTimeout: 5 * time.Second,
	}
	var logs e2e.Log
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rdb, err := worker.OpenRedis(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	svc, err := worker.New(cfg, db, log, worker.WithRedis(rdb))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	readyz := "http://" + ln.Addr().String() + "/readyz"
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- worker.RunWith(runCtx, svc, worker.RunOptions{AdminListener: ln, OutageProbe: 500 * time.Millisecond})
	}()
	defer func() {
		stop()
		<-done
	}()

	waitReadyz(t, readyz, 200, "ready", "")
	const outage = 6 * time.Second
	redisSrv.Kill(t)
	waitReadyz(t, readyz, 503, "not ready: redis unreachable", "database")
	time.Sleep(outage / 2)
	pg.close()
	waitReadyz(t, readyz, 503, "not ready: database unreachable", "")
	if code, body := get(t, readyz); code != 503 || body != "not ready: database unreachable; redis unreachable\n" {
		t.Errorf("both down: /readyz %d %q, want 503 naming both", code, body)
	}
	time.Sleep(outage / 2)
	redisSrv.Restart(t)
	waitReadyz(t, readyz, 503, "not ready: database unreachable", "redis")
	pg.open(t)
	waitReadyz(t, readyz, 200, "ready", "")
	// The probe says so within its cadence.
	deadline := time.Now().Add(5 * time.Second)
	const lostMsg = " unreachable; trying again every 500ms, and saying nothing more until it answers"
	for time.Now().Before(deadline) && logs.Count("redis reachable again")+logs.Count("database reachable again") < 2 {
		time.Sleep(100 * time.Millisecond)
	}

	lost := map[string]int{}
	var noisy []string
	for _, e := range logs.Entries() {
		msg, _ := e["msg"].(string)
		switch {
		case msg == "redis"+lostMsg && e["addr"] == redisSrv.Addr, msg == "database"+lostMsg && e["addr"] == pg.addr:
			lost[e["dependency"].(string)]++
		case msg == "redis reachable again", msg == "database reachable again":
		case e["level"] == "ERROR" || e["level"] == "WARN" || strings.Contains(fmt.Sprint(e), redisSrv.Addr) || strings.Contains(fmt.Sprint(e), pg.addr):
			noisy = append(noisy, fmt.Sprint(e))
		}
	}
	t.Logf("%d log lines in all over a %s Redis outage and a %s database outage", len(logs.Lines()), outage, outage/2)
	if lost["redis"] != 1 || lost["database"] != 1 {
		t.Errorf("outage lines %v, want one for redis and one for the database", lost)
	}
	if r, d := logs.Count("redis reachable again"), logs.Count("database reachable again"); r != 1 || d != 1 {
		t.Errorf("recovery lines: %d for redis, %d for the database; want one each", r, d)
	}
	if len(noisy) > 0 {
		t.Errorf("lines per attempt got through:\n%s", strings.Join(noisy, "\n"))
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs.Tail(100))
	}
}

// proxy forwards a loopback port to a server until closed, and can be
// opened again on the same port: a database that goes away and comes back.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{addr: "127.0.0.1:" + strconv.Itoa(e2e.FreePort(t)), target: target, conns: map[net.Conn]bool{}}
	p.open(t)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) open(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		// Accepted just before close cut the others: it must not outlive
		// the cut.
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// close stops listening and cuts every connection.
func (p *proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func postgresAddr(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("the test DSN is not a URL: %v", err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

func replaceHost(t *testing.T, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReadyz waits up to 15 s for /readyz to answer code with a body
// starting with prefix and not containing without.
func waitReadyz(t *testing.T, u string, code int, prefix, without string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, body := get(t, u)
		if got == code && strings.HasPrefix(body, prefix) && (without == "" || !strings.Contains(body, without)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q, want %d %q without %q", got, body, code, prefix, without)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
