package main

import (
	"strings"
	"testing"
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
		{[]string{"--month", "2026-11", "--by", "phong"}, `--by "phong": want one of department, official, procedure`},
		{[]string{"--month", "2026-11", "--format", "xls"}, `--format "xls": want table or csv`},
	}
	for _, c := range cases {
		_, errOut, status := run(t, append([]string{"report"}, c.args...)...)
		if status != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("report %v: exit %d, %q; want 2 and %q", c.args, status, errOut, c.want)
		}
	}
}
