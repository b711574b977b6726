package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch/store"
)

// run executes the CLI in process as a user would type it and returns what it
// printed and the exit status main would use.
func run(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), exitStatus(err)
}

func TestCalendarDue(t *testing.T) {
	t.Setenv("DVCWATCH_CONFIG", "")
	cases := []struct {
		name string
		args []string
		due  string
	}{
		{"working days across Tết 2026", []string{"--received", "2026-02-12 15:00", "--limit", "5wd"}, "due: 2026-02-26 15:00"},
		{"received on a Saturday made a working day", []string{"--received", "2026-01-10 09:00", "--limit", "1wd"}, "due: 2026-01-12 09:00"},
		{"received after office hours", []string{"--received", "2026-03-02 18:00", "--limit", "1wd"}, "due: 2026-03-03 17:00"},
		{"calendar days ending on a Sunday", []string{"--received", "2026-03-06 10:00", "--limit", "2d"}, "due: 2026-03-09 17:00"},
		{"working hours", []string{"--received", "2026-03-02 11:00", "--limit", "8h"}, "due: 2026-03-03 11:30"},
		{"paused across Tết", []string{"--received", "2026-02-10 09:00", "--limit", "5wd", "--pause", "2026-02-11 09:00..2026-02-24 09:00"}, "due: 2026-03-02 09:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, status := run(t, append([]string{"calendar", "due"}, c.args...)...)
			if status != 0 {
				t.Fatalf("exit status %d: %s", status, errOut)
			}
			if first, _, _ := strings.Cut(out, "\n"); first != c.due {
				t.Errorf("first line = %q, want %q\n%s", first, c.due, out)
			}
		})
	}
}

func TestCalendarBadInput(t *testing.T) {
	t.Setenv("DVCWATCH_CONFIG", "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"calendar", "due", "--received", "2026-02-30 08:00", "--limit", "5wd"}, `--received "2026-02-30 08:00": want "YYYY-MM-DD HH:MM"`},
		{[]string{"calendar", "due", "--received", "2026-03-02 08:00", "--limit", "5 days"}, `--limit: limit "5 days"`},
		{[]string{"calendar", "due", "--limit", "5wd"}, `--received: required`},
		{[]string{"calendar", "due", "--received", "2026-03-02 08:00", "--limit", "5wd", "--pause", "2026-03-03 08:00"}, `--pause "2026-03-03 08:00": want`},
		{[]string{"calendar", "due", "--received", "1999-12-30 08:00", "--limit", "5wd"}, `--received 1999-12-30 08:00:`},
		{[]string{"calendar", "holidays", "--year", "2101"}, `--year 2101: want a year from 2000 to 2100`},
		{[]string{"calendar", "holidays", "--year", "soon"}, `invalid argument "soon" for "--year"`},
		{[]string{"calendar", "holidays"}, `--year: required`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, status := run(t, c.args...)
			if status != exitUsage {
				t.Errorf("exit status %d, want %d", status, exitUsage)
			}
			if out != "" {
				t.Errorf("printed %q on bad input, want nothing on stdout", out)
			}
			if !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("error = %q, want one line containing %q", errOut, c.want)
			}
		})
	}
}

func TestCalendarHolidays(t *testing.T) {
	t.Setenv("DVCWATCH_CONFIG", "")
	out, errOut, status := run(t, "calendar", "holidays", "--year", "2026")
	if status != 0 {
		t.Fatalf("exit status %d: %s", status, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"2026-01-01", "2026-01-02", "2026-01-10", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
		"2026-04-27", "2026-04-30", "2026-05-01", "2026-08-22", "2026-08-31", "2026-09-01", "2026-09-02"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, want[i]+" ") {
			t.Errorf("line %d = %q, want it to start with %s", i, l, want[i])
		}
	}
	if !strings.Contains(lines[2], "Sat") || !strings.Contains(lines[2], "working_weekend") {
		t.Errorf("10 Jan 2026 line = %q, want a working Saturday", lines[2])
	}
	if errOut != "" {
		t.Errorf("an announced year printed a note: %q", errOut)
	}

	// A year not yet announced is computed, and the operator is told so.
	out, errOut, _ = run(t, "calendar", "holidays", "--year", "2085")
	if !strings.Contains(out, "holiday") || !strings.Contains(errOut, "no announcement for 2085") {
		t.Errorf("2085: stdout %q, stderr %q", out, errOut)
	}
}

func TestCalendarUsesOperatorFile(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "calendar.yaml"), `years:
  2027:
    source: "test announcement"
    days:
      - {date: 2027-01-01, kind: holiday, name: "Tết Dương lịch"}
      - {date: 2027-03-15, kind: day_off, name: "Nghỉ thử"}
`)
	cfg := filepath.Join(dir, "dvcwatch.yaml")
	write(t, cfg, minimalConfig+"calendar:\n  file: calendar.yaml\n  cutoff: \"16:00\"\n")
	out, errOut, status := run(t, "calendar", "holidays", "--year", "2027", "--config", cfg)
	if status != 0 || !strings.Contains(out, "2027-03-15") || strings.Contains(out, "2027-02-08") {
		t.Errorf("status %d, stdout %q, stderr %q: want the operator's 2027 only", status, out, errOut)
	}
	// The configured cutoff moves a 16:30 receipt to the next morning.
	out, _, _ = run(t, "calendar", "due", "--config", cfg, "--received", "2027-03-12 16:30", "--limit", "1wd")
	if first, _, _ := strings.Cut(out, "\n"); first != "due: 2027-03-16 17:00" {
		t.Errorf("first line = %q, want due: 2027-03-16 17:00 (after the cutoff, over the day off)", first)
	}
}

func TestConfigCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "dvcwatch.yaml")
	write(t, cfg, minimalConfig+`schedules:
  - name: detect
    cron: "@every 15m"
    job: detect
    conector: x
  - name: sync
    cron: "*/5 * *"
    job: detect
`)
	_, errOut, status := run(t, "config", "check", "--config", cfg)
	if status != exitUsage {
		t.Errorf("exit status %d, want %d", status, exitUsage)
	}
	for _, want := range []string{
		cfg + `:14: schedules[0].conector: unknown field "conector" (did you mean "connector"?)`,
		cfg + `:16: schedules[1].cron: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}

	t.Setenv("DVCWATCH_DVCQG_PASSWORD", "x")
	t.Setenv("DVCWATCH_ONESTOP_PASSWORD", "x")
	t.Setenv("DVCWATCH_SMTP_PASSWORD", "x")
	t.Setenv("DVCWATCH_ADMIN_TOKEN_VANPHONG", "0123456789abcdef")
	t.Setenv("DVCWATCH_ADMIN_TOKEN_IT", "fedcba9876543210")
	out, errOut, status := run(t, "config", "check", "--config", "../../config/dvcwatch.example.yaml")
	if status != 0 || !strings.Contains(out, "valid") {
		t.Errorf("example: status %d, stdout %q, stderr %q", status, out, errOut)
	}
}

func TestMigrateEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "dvcwatch.db")
	cfg := filepath.Join(dir, "dvcwatch.yaml")
	write(t, cfg, minimalConfig+"database:\n  dsn: "+dbPath+"\n")
	for range 2 { // the second run must be a no-op
		if out, errOut, status := run(t, "migrate", "--config", cfg); status != 0 {
			t.Fatalf("migrate: status %d, stdout %q, stderr %q", status, out, errOut)
		}
	}
	db, err := store.Open(context.Background(), store.DriverSQLite, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.CountDossiers(context.Background()); err != nil || n != 0 {
		t.Errorf("CountDossiers after migrate = %d, %v; want an empty, migrated database", n, err)
	}
}

func TestVersion(t *testing.T) {
	out, _, status := run(t, "version")
	if status != 0 || !strings.HasPrefix(out, "dvcwatch ") {
		t.Errorf("version: status %d, output %q", status, out)
	}
}

// minimalConfig is the least a valid file needs: someone to alert, a mail
// server, an administrator.
const minimalConfig = `agencies:
  - code: X
    name: UBND xã X
smtp:
  host: smtp.example
  from: canhbao@x.example
admin:
  tokens:
    - {name: ops, role: admin, token: 0123456789abcdef}
`

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
