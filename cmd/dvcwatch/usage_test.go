package main

import (
	"strings"
	"testing"
)

// What a user mistypes exits 2 with one line naming the mistake and, when one
// is near, what they meant; nothing is printed on stdout (no help page).
func TestUsageErrorsSuggest(t *testing.T) {
	t.Setenv("DVCWATCH_CONFIG", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		// Unknown commands, at the root and below it.
		{[]string{"foo"}, `unknown command "foo" for "dvcwatch" (see "dvcwatch --help")`},
		{[]string{"calendr"}, `unknown command "calendr" for "dvcwatch"; did you mean "dvcwatch calendar"?`},
		{[]string{"breaches", "lst"}, `unknown command "lst" for "dvcwatch breaches"; did you mean "dvcwatch breaches list"? (its commands: ack, list)`},
		{[]string{"calendar", "holiday"}, `unknown command "holiday" for "dvcwatch calendar"; did you mean "dvcwatch calendar holidays"? (its commands: due, holidays)`},
		// pflag stops at --year, but the mistake is the command before it.
		{[]string{"calendar", "holiday", "--year", "2026"}, `unknown command "holiday" for "dvcwatch calendar"; did you mean "dvcwatch calendar holidays"?`},
		{[]string{"help", "calendar", "holiday"}, `unknown command "holiday" for "dvcwatch calendar"; did you mean "dvcwatch calendar holidays"?`},
		{[]string{"help", "foo"}, `unknown command "foo" for "dvcwatch"`},
		{[]string{"version", "foo"}, `unknown command "foo" for "dvcwatch version"`},
		{[]string{"completion", "bsh"}, `unknown command "bsh" for "dvcwatch completion"; did you mean "dvcwatch completion bash", `},

		// Unknown flags: the nearest flag, or the commands that have it.
		{[]string{"calendar", "holidays", "--yaer", "2026"}, `unknown flag --yaer for "dvcwatch calendar holidays"; did you mean --year?`},
		{[]string{"calendar", "due", "--year", "2026"}, `unknown flag --year for "dvcwatch calendar due"; --year is a flag of "dvcwatch calendar holidays"`},
		{[]string{"calendar", "--year", "2026"}, `unknown flag --year for "dvcwatch calendar"; --year is a flag of "dvcwatch calendar holidays"; its commands: due, holidays`},
		{[]string{"sync", "run", "--conector", "x"}, `unknown flag --conector for "dvcwatch sync run"; did you mean --connector?`},
		{[]string{"jobs", "list", "-z"}, `unknown flag -z for "dvcwatch jobs list"`},

		// Enumerated values: every allowed one, and the nearest.
		{[]string{"breaches", "list", "--kind", "overdu"}, `--kind "overdu": unknown breach kind (did you mean "overdue"? want one of: due_soon, overdue, finished_late,`},
		{[]string{"calendar", "due", "--received", "2026-03-02 08:00", "--limit", "5wd", "--counting", "office_hour"},
			`--counting: unknown counting "office_hour" (did you mean "office_hours"? want one of: dates, office_hours)`},
		{[]string{"demo", "--faults", "heavy"}, `--faults "heavy": unknown fault profile (want one of: light, none)`},
		{[]string{"demo", "--log-level", "eror"}, `--log-level "eror": unknown log level (did you mean "error"? want one of: debug, info, warn, error)`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, status := run(t, c.args...)
			if status != exitUsage {
				t.Errorf("exit status %d, want %d", status, exitUsage)
			}
			if out != "" {
				t.Errorf("printed %q on stdout, want nothing", out)
			}
			if !strings.Contains(errOut, c.want) || strings.Contains(strings.TrimSpace(errOut), "\n") {
				t.Errorf("error = %q, want one line containing %q", errOut, c.want)
			}
		})
	}
}

// A command group typed alone is a request for its help: shown, exit 0.
func TestCommandGroupAloneShowsHelp(t *testing.T) {
	for _, args := range [][]string{{"calendar"}, {"help", "calendar"}, {"calendar", "--help"}} {
		out, errOut, status := run(t, args...)
		if status != 0 || !strings.Contains(out, "dvcwatch calendar [command]") || errOut != "" {
			t.Errorf("%v: status %d, stdout %q, stderr %q", args, status, out, errOut)
		}
	}
}
