package main

import (
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch/internal/portalsim"
)

func TestSyncRun(t *testing.T) {
	sim := portalsim.New(portalsim.Options{Seed: 11, Dossiers: 150, Faults: &portalsim.Faults{BadRecordRate: 1}})
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	t.Setenv("SIM_PASSWORD", portalsim.DefaultPassword)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "dvcwatch.yaml")
	write(t, cfg, minimalConfig+`database:
  dsn: `+filepath.Join(dir, "dvcwatch.db")+`
connectors:
  - name: onestop
    kind: onestop
    base_url: `+srv.URL+`
    username: `+portalsim.DefaultUsername+`
    password: ${SIM_PASSWORD}
    page_size: 50
    rate_limit: 1000
  - name: dvcqg
    kind: dvcqg
    base_url: `+srv.URL+`
    agency_code: `+portalsim.DefaultAgencyCode+`
    username: `+portalsim.DefaultUsername+`
    password: ${SIM_PASSWORD}
    rate_limit: 1000
log:
  level: error
`)
	out, errOut, status := run(t, "sync", "run", "--config", cfg)
	if status != 0 {
		t.Fatalf("sync run: status %d\n%s\n%s", status, out, errOut)
	}
	census := sim.Census()
	line := regexp.MustCompile(`(?m)^onestop: fetched=(\d+) inserted=(\d+) updated=0 unchanged=0 stale=\d+ events=(\d+) skipped=([1-9]\d*) batches=\d+$`)
	m := line.FindStringSubmatch(out)
	if m == nil || m[2] != strconv.Itoa(census.Dossiers) || m[3] != m[2] {
		t.Errorf("want every one of the %d dossiers inserted with one event and the bad records skipped:\n%s", census.Dossiers, out)
	}
	if !regexp.MustCompile(`(?m)^  skipped \d+: `).MatchString(out) || !strings.Contains(out, "  cursor: ") {
		t.Errorf("want skip reasons and the cursor:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^dvcqg: fetched=\d+ inserted=[1-9]`).MatchString(out) {
		t.Errorf("want the national portal synced too:\n%s", out)
	}

	// A second pass stores nothing new.
	out, _, status = run(t, "sync", "run", "--config", cfg, "--connector", "onestop")
	if status != 0 || !regexp.MustCompile(`(?m)^onestop: fetched=\d+ inserted=0 updated=0 unchanged=\d+ stale=\d+ events=0 `).MatchString(out) {
		t.Errorf("second pass: status %d\n%s", status, out)
	}
	if strings.Contains(out, "dvcqg:") {
		t.Errorf("--connector onestop synced dvcqg too:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--connector", "nope"}, `--connector "nope": unknown connector (want one of: onestop, dvcqg)`},
		{[]string{"--connector", "onestp"}, `--connector "onestp": unknown connector (did you mean "onestop"? want one of: onestop, dvcqg)`},
		{[]string{"--since", "last week"}, `--since "last week": want "YYYY-MM-DD" or "YYYY-MM-DD HH:MM"`},
	} {
		_, errOut, status := run(t, append([]string{"sync", "run", "--config", cfg}, c.args...)...)
		if status != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, error %q; want %d and %q", c.args, status, errOut, exitUsage, c.want)
		}
	}
}
