package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReportBadFlags: a wrong month, level or format is the user's input:
// exit status 2, naming the flag and what it takes, before any database is
// opened.
func TestReportBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--config", "unused.yaml"}, "--month: required, as YYYY-MM (e.g. 2026-11), or --year YYYY"},
		{[]string{"--month", "2026-11", "--year", "2026"}, "--month and --year: give one period"},
		{[]string{"--year", "26"}, "--year 26: want a year such as 2026"},
		{[]string{"--month", "11/2026"}, `--month: month "11/2026": want YYYY-MM`},
		{[]string{"--month", "2026-11", "--by", "phong"}, `--by "phong": unknown level (want one of: department, official, procedure)`},
		{[]string{"--month", "2026-11", "--format", "xls"}, `--format "xls": unknown format (did you mean "xlsx"? want one of: table, csv, xlsx)`},
		{[]string{"--month", "2026-11", "--by", "offical"}, `--by "offical": unknown level (did you mean "official"?`},
	}
	for _, c := range cases {
		_, errOut, status := run(t, append([]string{"report"}, c.args...)...)
		if status != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("report %v: exit %d, %q; want 2 and %q", c.args, status, errOut, c.want)
		}
	}
}

// TestReportXLSX: --format xlsx writes one agency's workbook, a sheet per
// level, to --out or to standard output when it is not a terminal; to a
// terminal it refuses with exit status 2, before the database is opened.
func TestReportXLSX(t *testing.T) {
	cfg, _ := dossierConfig(t)
	out := filepath.Join(t.TempDir(), "ket-qua.xlsx")
	if _, errOut, status := run(t, "report", "--config", cfg, "--month", "2026-11", "--format", "xlsx", "--out", out); status != 0 {
		t.Fatalf("report --format xlsx --out: exit %d: %s", status, errOut)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{"Cơ quan", "Phòng ban", "Cán bộ", "Thủ tục"}; !slices.Equal(got, want) {
		t.Errorf("sheets %q, want %q", got, want)
	}
	if title, _ := f.GetCellValue("Cơ quan", "A1"); !strings.Contains(title, "UBND xã Hòa Bình") || !strings.Contains(title, "11/2026") {
		t.Errorf("title %q, want the agency's name and the month", title)
	}

	stdout, errOut, status := run(t, "report", "--config", cfg, "--month", "2026-11", "--format", "xlsx")
	if status != 0 || !strings.HasPrefix(stdout, "PK") {
		t.Errorf("report --format xlsx to a pipe: exit %d, %d bytes starting %q: %s", status, len(stdout), stdout[:min(len(stdout), 4)], errOut)
	}

	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no terminal to write to: %v", err)
	}
	defer tty.Close()
	cmd := newRootCommand()
	cmd.SetOut(tty)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"report", "--config", "missing.yaml", "--month", "2026-11", "--format", "xlsx"})
	err = cmd.ExecuteContext(context.Background())
	if exitStatus(err) != 2 || !strings.Contains(fmt.Sprint(err), "--format xlsx: a workbook is binary and standard output is a terminal: give --out FILE") {
		t.Errorf("report --format xlsx to a terminal: exit %d, %v; want 2 and --out asked for", exitStatus(err), err)
	}
}
