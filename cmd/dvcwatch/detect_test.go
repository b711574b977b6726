package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

// simConfig writes a configuration for the simulator's commune (its people and
// procedures) on a SQLite file in a temporary directory.
func simConfig(t *testing.T, sim *portalsim.Sim, url, extra string) string {
	t.Helper()
	people, err := sim.Directory().ConfigYAML()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SIM_PASSWORD", portalsim.DefaultPassword)
	dir := t.TempDir()
	path := filepath.Join(dir, "dvcwatch.yaml")
	write(t, path, people+`database:
  dsn: `+filepath.Join(dir, "dvcwatch.db")+`
connectors:
  - name: onestop
    kind: onestop
    base_url: `+url+`
    username: `+portalsim.DefaultUsername+`
    password: ${SIM_PASSWORD}
    rate_limit: 1000
notify:
  dossier_url: https://motcua.example/ho-so/{code}
smtp:
  host: 127.0.0.1
  from: canhbao@hoabinh.example
  tls: none
admin:
  tokens:
    - {name: ops, role: admin, token: 0123456789abcdef}
log:
  level: error
`+extra)
	return path
}

var simStart = time.Date(2026, 11, 24, 9, 0, 0, 0, sla.Location()) // a Tuesday morning

func TestDetectRun(t *testing.T) {
	sim := portalsim.New(portalsim.Options{Seed: 5, Dossiers: 600, Start: simStart})
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	cfg := simConfig(t, sim, srv.URL, "")
	if out, errOut, status := run(t, "sync", "run", "--config", cfg); status != 0 {
		t.Fatalf("sync run: status %d\n%s\n%s", status, out, errOut)
	}
	now := sim.Now().In(sla.Location()).Format(minuteLayout)

	out, errOut, status := run(t, "detect", "run", "--config", cfg, "--now", now)
	if status != 0 {
		t.Fatalf("detect run: status %d\n%s\n%s", status, out, errOut)
	}
	first := regexp.MustCompile(`(?m)^full pass: evaluated=(\d+) new=([1-9]\d*) updated=0 reopened=0 resolved=0 alerts=([1-9]\d*) emails=([1-9]\d*)$`)
	if !first.MatchString(out) {
		t.Fatalf("first pass: want a full pass with breaches, alerts and emails:\n%s\n%s", out, errOut)
	}
	for _, kind := range []string{"overdue", "due_soon", "total"} {
		if !regexp.MustCompile(`(?m)^\s*` + kind + `\s+[1-9]\d*\s+[1-9]\d*\s*$`).MatchString(out) {
			t.Errorf("want a %s row with new and open counts:\n%s", kind, out)
		}
	}

	// The same pass again: nothing new, nobody told twice.
	out, _, status = run(t, "detect", "run", "--config", cfg, "--now", now)
	if status != 0 || !regexp.MustCompile(`(?m)^incremental pass: evaluated=\d+ new=0 updated=0 reopened=0 resolved=0 alerts=0 emails=0$`).MatchString(out) {
		t.Errorf("second pass: status %d, want nothing new:\n%s", status, out)
	}

	out, _, status = run(t, "breaches", "list", "--config", cfg, "--kind", "overdue", "--limit", "1")
	m := regexp.MustCompile(`(?m)^(\d+)\s+overdue\s+(warning|critical)\s+onestop/\S+`).FindStringSubmatch(out)
	if status != 0 || m == nil {
		t.Fatalf("breaches list: status %d:\n%s", status, out)
	}
	// A silence of that dossier shows in the list.
	db, err := store.Open(context.Background(), store.DriverSQLite, filepath.Join(filepath.Dir(cfg), "dvcwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`onestop/(\S+)`).FindStringSubmatch(out)[1]
	sil, err := db.AddSilence(context.Background(), dvcwatch.Silence{Matchers: []dvcwatch.Matcher{dvcwatch.NewMatcher(dvcwatch.LabelDossier, code)},
		StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour), Reason: "chờ", CreatedBy: "otto", CreatedAt: time.Now()})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	out, _, status = run(t, "breaches", "list", "--config", cfg, "--kind", "overdue", "--limit", "1")
	if want := fmt.Sprintf(`(?m)^%s\s+overdue\s.*\s#%d$`, m[1], sil.ID); status != 0 || !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("breaches list of a silenced breach: status %d, want it marked #%d:\n%s", status, sil.ID, out)
	}
	out, errOut, status = run(t, "breaches", "ack", "--config", cfg, "--id", m[1], "--official", "van.phong", "--reason", "Đã nhắc bộ phận")
	if status != 0 || !strings.Contains(out, "acknowledged breach "+m[1]) {
		t.Errorf("breaches ack: status %d\n%s\n%s", status, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"detect", "run", "--config", cfg, "--now", "tomorrow"}, `--now "tomorrow": want "YYYY-MM-DD HH:MM"`},
		{[]string{"breaches", "ack", "--config", cfg, "--id", m[1], "--official", "nobody", "--reason", "x"}, "--official nobody: no such official"},
		{[]string{"breaches", "ack", "--config", cfg, "--id", m[1], "--official", "van.phong"}, "--reason: required"},
		{[]string{"breaches", "ack", "--config", cfg, "--id", m[1], "--official", strings.Repeat("x", 60<<10), "--reason", "x"},
			"--official: 61440 characters, at most 100"},
		{[]string{"breaches", "ack", "--config", cfg, "--id", m[1], "--official", "van.phong", "--reason", strings.Repeat("ý", 501)},
			"--reason: 501 characters, at most 500"},
		{[]string{"breaches", "list", "--config", cfg, "--kind", "late"}, `--kind "late": unknown breach kind`},
	} {
		_, errOut, status := run(t, c.args...)
		if status != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, error %q; want %d and %q", c.args[:2], status, errOut, exitUsage, c.want)
		}
	}
}
