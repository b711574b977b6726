package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/sla"
)

func TestSilencesCLI(t *testing.T) {
	a := startCLIAPI(t)

	out := wantOK(t)(a.cli(t, cliViewer, "silences", "list"))
	if out != "no active silences\n" {
		t.Errorf("silences list before any: %q", out)
	}
	out = wantOK(t)(a.cli(t, cliOperator, "silences", "add", "--kind", "portal_mismatch", "--agency", "000.05.31.H99",
		"--for", "3d", "--reason", "Cổng DVCQG bảo trì theo thông báo"))
	m := regexp.MustCompile(`^silence (\d+): muting kind=portal_mismatch agency=000\.05\.31\.H99 until (` + vnMinute + `), by otto\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add --for: %q", out)
	}
	until, err := time.ParseInLocation(minuteLayout, m[2], sla.Location())
	if err != nil || until.Sub(time.Now()) < 72*time.Hour-2*time.Minute || until.Sub(time.Now()) > 72*time.Hour {
		t.Errorf("a silence for 3d ends at %s (%v)", m[2], err)
	}
	end := time.Now().Add(48 * time.Hour).In(sla.Location()).Truncate(time.Minute)
	out = wantOK(t)(a.cli(t, cliAdmin, "silences", "add", "--dossier", "hs-001", "--until", end.Format(minuteLayout), "--reason", "chờ"))
	if want := "silence 2: muting dossier=hs-001 until " + end.Format(minuteLayout) + ", by ada\n"; out != want {
		t.Errorf("add --until: %q, want %q", out, want)
	}

	out = wantOK(t)(a.cli(t, cliViewer, "silences", "list"))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^ID +MATCHERS +FROM +UNTIL +STATE +BY +REASON$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^2 +dossier=hs-001 +`+vnMinute+` +`+vnMinute+` +active +ada +chờ$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^1 +kind=portal_mismatch agency=000\.05\.31\.H99 +.* active +otto +Cổng DVCQG bảo trì theo thông báo$`).MatchString(lines[2]) {
		t.Errorf("silences list:\n%s", out)
	}

	out = wantOK(t)(a.cli(t, cliOperator, "silences", "expire", "--id", "1"))
	if !regexp.MustCompile(`^silence 1: expired at ` + vnMinute + ` \(was muting kind=portal_mismatch agency=000\.05\.31\.H99\); the next detection pass tells what it held back\n$`).MatchString(out) {
		t.Errorf("expire: %q", out)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "silences", "list"))
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "\n2 ") {
		t.Errorf("active silences after the expiry:\n%s", out)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "silences", "list", "--all", "--json"))
	var ss []admin.Silence
	if err := json.Unmarshal([]byte(out), &ss); err != nil || len(ss) != 2 || ss[1].ID != 1 || ss[1].Active || ss[1].ExpiredBy != "otto" {
		t.Errorf("list --all --json: %v\n%s", err, out)
	}
	out = wantOK(t)(a.cli(t, cliViewer, "silences", "list", "--all"))
	if !regexp.MustCompile(`\n1 +kind=portal_mismatch .* expired by otto +otto +`).MatchString(out) {
		t.Errorf("list --all:\n%s", out)
	}

	// Refusals: the server's message, exit 1.
	_, errOut, status := a.cli(t, cliOperator, "silences", "expire", "--id", "1")
	if status != exitFailure || !regexp.MustCompile(`^POST /api/v1/silences/1/expire: 409 Conflict: silence 1: ended already, at \S+\+07:00$`).MatchString(errOut) {
		t.Errorf("expire again: status %d, %q", status, errOut)
	}
	_, errOut, status = a.cli(t, cliOperator, "silences", "expire", "--id", "99")
	if status != exitFailure || errOut != `POST /api/v1/silences/99/expire: 404 Not Found: expire silence 99: not found` {
		t.Errorf("expire an unknown silence: status %d, %q", status, errOut)
	}
	_, errOut, status = a.cli(t, cliViewer, "silences", "add", "--kind", "overdue", "--for", "1h", "--reason", "r")
	if want := `token "vera" with role viewer may not add a silence: 403 (needs operator)`; status != exitFailure || errOut != want {
		t.Errorf("viewer add: status %d, %q\nwant %q", status, errOut, want)
	}
}

// TestSilencesCLIBadInput: bad flags exit 2 with a message naming them, and
// ask nothing of the server.
func TestSilencesCLIBadInput(t *testing.T) {
	a := startCLIAPI(t)
	past := time.Now().Add(-time.Hour).In(sla.Location()).Format(minuteLayout)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--for", "1h", "--reason", "r"},
			"no matcher: give at least one of --kind, --agency, --department, --official, --procedure, --dossier"},
		{[]string{"add", "--kind", "late", "--for", "1h", "--reason", "r"}, `--kind "late": unknown breach kind (want one of: due_soon, overdue, `},
		{[]string{"add", "--kind", "overdue", "--reason", "r"}, `--until "YYYY-MM-DD HH:MM" or --for DURATION (e.g. 72h, 3d): one is required`},
		{[]string{"add", "--kind", "overdue", "--for", "1h", "--until", "2030-01-01 08:00", "--reason", "r"}, "--until and --for: give one, not both"},
		{[]string{"add", "--kind", "overdue", "--for", "1h"}, "--reason: required"},
		{[]string{"add", "--kind", "overdue", "--for", "3x", "--reason", "r"}, `--for "3x": want a positive duration, e.g. 90m, 72h, 3d or 1w`},
		{[]string{"add", "--kind", "overdue", "--for", "0", "--reason", "r"}, `--for "0": want a positive duration`},
		{[]string{"add", "--kind", "overdue", "--until", "tomorrow", "--reason", "r"}, `--until "tomorrow": want "YYYY-MM-DD HH:MM"`},
		{[]string{"add", "--kind", "overdue", "--until", past, "--reason", "r"}, `--until "` + past + `": not in the future`},
		{[]string{"add", "overdue", "--for", "1h", "--reason", "r"}, "want no arguments (matchers are flags, e.g. --kind portal_mismatch)"},
		{[]string{"add", "--kinds", "overdue"}, `unknown flag --kinds for "dvcwatch silences add"; did you mean --kind?`},
		{[]string{"add", "--kind", "overdu", "--for", "1h", "--reason", "r"}, `--kind "overdu": unknown breach kind (did you mean "overdue"? want one of: due_soon, overdue, `},
		{[]string{"expire"}, `--id: required, the silence's ID from "dvcwatch silences list"`},
		{[]string{"expire", "3"}, "want no arguments (the silence is --id N)"},
		{[]string{"expire", "--id", "x"}, `invalid argument "x" for "--id"`},
		{[]string{"list", "--limit", "0"}, "--limit 0: want 1 to 1000"},
	} {
		out, errOut, status := a.cli(t, cliOperator, append([]string{"silences"}, c.args...)...)
		if status != exitUsage || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("silences %v: status %d, stdout %q, stderr %q; want exit 2 saying %q", c.args, status, out, errOut, c.want)
		}
	}
	if out := wantOK(t)(a.cli(t, cliViewer, "silences", "list", "--all")); out != "no silences\n" {
		t.Errorf("bad input recorded silences:\n%s", out)
	}
}
