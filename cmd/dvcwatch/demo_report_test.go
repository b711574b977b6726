package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/report"
	"github.com/dvcwatch/dvcwatch/sla"
)

// TestDemoLeavesItsConfiguration runs the demo with a data directory, then
// the month's results against the configuration it left there, as a user
// would: a header line, the agency's line, and one line per department
// whose counts add up to the agency's.
func TestDemoLeavesItsConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for 25 s")
	}
	dir := t.TempDir()
	if _, errOut, status := run(t, "demo", "--data", dir, "--for", "25s", "--speed", "60", "--listen", "127.0.0.1:0", "--faults", "none"); status != 0 {
		t.Fatalf("demo: exit %d: %s", status, errOut)
	}
	config := filepath.Join(dir, "dvcwatch.yaml")
	if info, err := os.Stat(config); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the demo's configuration: %v, %v; want it beside the data, readable by its owner only (it holds the run's token)", info, err)
	}
	// The simulated commune's dossiers span the 90 days before now: the
	// month before this one is whole.
	month := report.Month(time.Now().In(sla.Location()).Year(), time.Now().In(sla.Location()).Month()).Previous().From.Format("2006-01")
	// The counts are sums over the verdicts detection records. On a loaded
	// machine 25 s may end the demo before a pass judged what its sync
	// stored: a pass run by hand on the configuration it left judges it all.
	if _, errOut, status := run(t, "detect", "run", "--config", config); status != 0 {
		t.Fatalf("detect run: exit %d: %s", status, errOut)
	}
	out, errOut, status := run(t, "report", "--config", config, "--month", month, "--format", "csv")
	if status != 0 {
		t.Fatalf("report: exit %d: %s", status, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || rows[0][0] != "Cấp" || rows[1][0] != "Cơ quan" {
		t.Fatalf("report of %s:\n%s\nwant a header, the agency's line and the departments'", month, out)
	}
	counts := map[string]bool{}
	for i, c := range report.Columns {
		// Every count column: the rates, the average and the kinds' text are not sums.
		counts[strconv.Itoa(i)] = i >= 3 && !strings.Contains(c, "(%)") && !strings.Contains(c, "TB") && c != "Vi phạm theo loại"
	}
	for i, name := range rows[0] {
		if !counts[strconv.Itoa(i)] {
			continue
		}
		agency, sum := atoi(t, rows[1][i]), 0
		for _, r := range rows[2:] {
			sum += atoi(t, r[i])
		}
		if sum != agency {
			t.Errorf("%s: the departments add up to %d, the agency's line says %d", name, sum, agency)
		}
	}
	// Under -race on a loaded machine the first sync may have stored only a
	// part of the commune by the end: some dossiers, received or carried over.
	if atoi(t, rows[1][3])+atoi(t, rows[1][4]) == 0 {
		t.Errorf("the demo's agency has no dossier in %s:\n%s", month, out)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: not a count", s)
	}
	return n
}
