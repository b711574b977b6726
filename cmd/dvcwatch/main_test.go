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
	officeHours := []string{"--counting", "office_hours"}
	cases := []struct {
		name string
		args []string
		due  string
	}{
		// dates, the default: Civil Code 2015 art. 147–148.
		{"art. 147: the receipt day is not counted", []string{"--received", "2026-03-02 07:30", "--limit", "1wd"}, "due: 2026-03-03 17:00"},
		{"art. 147: over Hùng Kings' compensatory day and 30/4–1/5", []string{"--received", "2026-04-23 09:00", "--limit", "5wd"}, "due: 2026-05-05 17:00"},
		{"art. 147: received after office hours counts the next day", []string{"--received", "2026-03-02 18:00", "--limit", "1wd"}, "due: 2026-03-04 17:00"},
		{"art. 147: across Tết 2026", []string{"--received", "2026-02-12 15:00", "--limit", "5wd"}, "due: 2026-02-26 17:00"},
		{"art. 148(5): 15d ending on a Saturday", []string{"--received", "2026-04-24 08:00", "--limit", "15d"}, "due: 2026-05-11 17:00"},
		{"art. 148(5): paused 15d, never earlier than unpaused, at the close of office", []string{"--received", "2026-04-24 08:00", "--limit", "15d", "--pause", "2026-04-27 08:00..2026-04-28 17:00"}, "due: 2026-05-11 17:00"},
		{"art. 148(5): calendar days ending on a Sunday", []string{"--received", "2026-03-06 10:00", "--limit", "2d"}, "due: 2026-03-09 17:00"},
		{"art. 147(1): working hours", []string{"--received", "2026-03-02 11:00", "--limit", "8h"}, "due: 2026-03-03 11:30"},

		// office_hours: the office-time arithmetic, kept per agency.
		{"office_hours: the receipt day counts", append([]string{"--received", "2026-03-02 07:30", "--limit", "1wd"}, officeHours...), "due: 2026-03-02 17:00"},
		{"office_hours: working days across Tết 2026", append([]string{"--received", "2026-02-12 15:00", "--limit", "5wd"}, officeHours...), "due: 2026-02-26 15:00"},
		{"office_hours: received on a Saturday made a working day", append([]string{"--received", "2026-01-10 09:00", "--limit", "1wd"}, officeHours...), "due: 2026-01-12 09:00"},
		{"office_hours: received after office hours", append([]string{"--received", "2026-03-02 18:00", "--limit", "1wd"}, officeHours...), "due: 2026-03-03 17:00"},
		{"office_hours: paused across Tết", append([]string{"--received", "2026-02-10 09:00", "--limit", "5wd", "--pause", "2026-02-11 09:00..2026-02-24 09:00"}, officeHours...), "due: 2026-03-02 09:00"},
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

// The explanation names the convention, the receipt day and every day skipped:
// Hùng Kings' day 2026 is Sunday 26 April, so Monday 27 April is off in
// compensation (Decree 145/2020/NĐ-CP art. 58); 30 April and 1 May are holidays
// (Labor Code 2019 art. 112).
func TestCalendarDueExplains(t *testing.T) {
	t.Setenv("DVCWATCH_CONFIG", "")
	out, errOut, status := run(t, "calendar", "due", "--received", "2026-04-23 09:00", "--limit", "5wd")
	if status != 0 {
		t.Fatalf("exit status %d: %s", status, errOut)
	}
	want := `due: 2026-05-05 17:00
received: 2026-04-23 09:00 (Thursday)
counting: dates (whole days after the receipt day, Civil Code 2015 art. 147-148; due at the close of office)
limit: 5wd (5 working days after the receipt day)
receipt day: 2026-04-23 (Thursday), not counted (Civil Code 2015 art. 147)
counting from: 2026-04-24 (Friday), day 1
last day: 2026-05-05 (Tuesday), day 5
skipped (not counted): 2026-04-25 (Saturday) weekend: Thứ Bảy – Saturday
skipped (not counted): 2026-04-26 (Sunday) weekend: Chủ Nhật – Sunday, Giỗ Tổ Hùng Vương – Hùng Kings' Commemoration
skipped (not counted): 2026-04-27 (Monday) compensatory: Nghỉ bù Giỗ Tổ Hùng Vương 26/4 – compensatory day off for Hùng Kings' Commemoration [computed default (not yet announced)]
skipped (not counted): 2026-04-30 (Thursday) holiday: Ngày Chiến thắng – Reunification Day [computed default (not yet announced)]
skipped (not counted): 2026-05-01 (Friday) holiday: Quốc tế Lao động – International Workers' Day [computed default (not yet announced)]
skipped (not counted): 2026-05-02 (Saturday) weekend: Thứ Bảy – Saturday
skipped (not counted): 2026-05-03 (Sunday) weekend: Chủ Nhật – Sunday
office hours: 07:30-11:30, 13:30-17:00, cutoff 17:00
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}

	// A late receipt, a pause and the end of a calendar-day period.
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--received", "2026-03-06 17:30", "--limit", "1wd"}, []string{
			"receipt day: 2026-03-09 (Monday), not counted (Civil Code 2015 art. 147); received at or after the 17:00 cutoff, so it counts as received the next working day",
			"skipped (before the receipt day): 2026-03-07 (Saturday) weekend: Thứ Bảy – Saturday",
		}},
		{[]string{"--received", "2026-04-24 08:00", "--limit", "15d", "--pause", "2026-04-27 08:00..2026-04-28 17:00"}, []string{
			"last day: 2026-05-11 (Monday), day 17 (15 + 2 added by pauses)",
			"paused: 2026-04-27 08:00 .. 2026-04-28 17:00 (33h00m of calendar time)",
			"pauses added: 2 days (33h00m of calendar time, rounded up to whole days)",
		}},
		{[]string{"--received", "2026-04-24 08:00", "--limit", "15d"}, []string{
			"skipped (last day moved, art. 148(5)): 2026-05-09 (Saturday) weekend: Thứ Bảy – Saturday",
		}},
		{[]string{"--received", "2026-03-02 08:00", "--limit", "1wd", "--counting", "office_hours"}, []string{
			"counting: office_hours (working days as office time from the receipt)",
			"limit: 1wd (1 working day of 7h30m office time)",
			"counting from: 2026-03-02 08:00 (Monday)",
			"office time counted: 7h30m",
		}},
	} {
		out, errOut, status := run(t, append([]string{"calendar", "due"}, c.args...)...)
		if status != 0 {
			t.Fatalf("%v: exit status %d: %s", c.args, status, errOut)
		}
		for _, line := range c.want {
			if !strings.Contains(out, line+"\n") {
				t.Errorf("%v: output lacks %q:\n%s", c.args, line, out)
			}
		}
	}
}

// An agency's counting comes from the configuration (its own, else the
// calendar's), and --counting overrides it.
func TestCalendarDueConfiguredCounting(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "dvcwatch.yaml")
	agencyY := "  - {code: Y, name: UBND xã Y, counting: dates}\nsmtp:"
	write(t, cfg, "calendar:\n  counting: office_hours\n"+strings.Replace(minimalConfig, "smtp:", agencyY, 1))
	for _, c := range []struct {
		args []string
		due  string
	}{
		{nil, "due: 2026-03-02 17:00"},
		{[]string{"--agency", "X"}, "due: 2026-03-02 17:00"},
		{[]string{"--agency", "Y"}, "due: 2026-03-03 17:00"},
		{[]string{"--agency", "X", "--counting", "dates"}, "due: 2026-03-03 17:00"},
		{[]string{"--agency", "Y", "--counting", "office_hours"}, "due: 2026-03-02 17:00"},
	} {
		args := append([]string{"calendar", "due", "--config", cfg, "--received", "2026-03-02 07:30", "--limit", "1wd"}, c.args...)
		out, errOut, status := run(t, args...)
		if first, _, _ := strings.Cut(out, "\n"); status != 0 || first != c.due {
			t.Errorf("%v: status %d, first line %q, want %q (stderr %q)", c.args, status, first, c.due, errOut)
		}
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
		{[]string{"calendar", "due", "--received", "2026-03-02 08:00", "--limit", "5wd", "--counting", "bogus"}, `--counting: unknown counting "bogus" (want one of: dates, office_hours)`},
		{[]string{"calendar", "due", "--received", "2026-03-02 08:00", "--limit", "5wd", "--counting", ""}, `--counting: unknown counting "" (want one of: dates, office_hours)`},
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
	write(t, cfg, minimalConfig+"calendar:\n  file: calendar.yaml\n  cutoff: \"16:00\"\n  counting: office_hours\n")
	out, errOut, status := run(t, "calendar", "holidays", "--year", "2027", "--config", cfg)
	if status != 0 || !strings.Contains(out, "2027-03-15") || strings.Contains(out, "2027-02-08") {
		t.Errorf("status %d, stdout %q, stderr %q: want the operator's 2027 only", status, out, errOut)
	}
	// The configured cutoff moves a 16:30 receipt to the next morning.
	out, _, _ = run(t, "calendar", "due", "--config", cfg, "--received", "2027-03-12 16:30", "--limit", "1wd")
	if first, _, _ := strings.Cut(out, "\n"); first != "due: 2027-03-16 17:00" {
		t.Errorf("first line = %q, want due: 2027-03-16 17:00 (after the cutoff, over the day off)", first)
	}
	// Counted by dates, the receipt day is the 16th and day 1 the 17th.
	out, _, _ = run(t, "calendar", "due", "--config", cfg, "--received", "2027-03-12 16:30", "--limit", "1wd", "--counting", "dates")
	if first, _, _ := strings.Cut(out, "\n"); first != "due: 2027-03-17 17:00" {
		t.Errorf("first line = %q, want due: 2027-03-17 17:00 (received on the 16th, after the cutoff and the day off)", first)
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
	t.Setenv("DVCWATCH_ACK_KEY", "0123456789abcdef0123456789abcdef")
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
