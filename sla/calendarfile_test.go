package sla

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedCalendarParses(t *testing.T) {
	t.Parallel()
	years, err := parseCalendarFile(embeddedCalendarName, embeddedCalendar)
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range []int{2025, 2026} {
		if len(years[y]) == 0 {
			t.Errorf("embedded calendar has no entries for %d", y)
		}
	}
	for y, entries := range years {
		for _, e := range entries {
			if strings.TrimSpace(e.Source) == "" || strings.TrimSpace(e.Name) == "" {
				t.Errorf("%d: entry %s has no name or source", y, e.Date.Format(time.DateOnly))
			}
		}
	}
}

func TestOperatorFileReplacesAndAddsYears(t *testing.T) {
	t.Parallel()
	cal, err := LoadCalendar(filepath.Join("testdata", "operator.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range []int{2025, 2026, 2027} {
		if !cal.Announced(y) {
			t.Errorf("Announced(%d) = false, want true", y)
		}
	}
	tests := []struct {
		date    civilDate
		working bool
		why     string
	}{
		{civilDate{2026, time.January, 2}, true, "the operator's 2026 has no 2 Jan day off: the whole embedded year is replaced"},
		{civilDate{2026, time.January, 10}, false, "nor the 10 Jan working Saturday"},
		{civilDate{2026, time.April, 27}, true, "nor the compensatory day for Hùng Kings' day"},
		{civilDate{2026, time.February, 17}, false, "Tết is in the operator's 2026"},
		{civilDate{2025, time.May, 2}, false, "2025 still comes from the embedded file"},
		{civilDate{2025, time.April, 26}, true, "2025 still comes from the embedded file"},
		{civilDate{2027, time.February, 4}, false, "the operator's 2027 day off"},
		{civilDate{2027, time.February, 20}, true, "the operator's 2027 working Saturday"},
		{civilDate{2027, time.April, 16}, true, "Hùng Kings' day 2027 is missing from the operator's 2027, which replaces the computed defaults"},
	}
	for _, tt := range tests {
		got, err := cal.IsWorkingDay(tt.date.time())
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.working {
			t.Errorf("IsWorkingDay(%s) = %v, want %v: %s", tt.date, got, tt.working, tt.why)
		}
	}
	e, ok, err := cal.Day(civilDate{2027, time.February, 20}.time())
	if err != nil || !ok || e.Source != "Operator swap, test fixture" || e.Kind != KindWorkingWeekend {
		t.Errorf("Day(2027-02-20) = %+v, %v, %v; want the operator's entry with its own source", e, ok, err)
	}
	e, ok, err = cal.Day(civilDate{2027, time.February, 4}.time())
	if err != nil || !ok || e.Source != "Operator announcement, test fixture" {
		t.Errorf("Day(2027-02-04) = %+v, %v, %v; want the year's default source", e, ok, err)
	}
}

func TestLoadCalendarMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadCalendar(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadCalendar(missing) error = %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestCalendarFileErrors(t *testing.T) {
	t.Parallel()
	// Each file starts with the newline after its opening backquote, so "years:" is
	// on line 2 and every line number in want is the line as displayed below.
	tests := []struct {
		name string
		file string
		want string
	}{
		{"unknown kind", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, kind: holiday, name: "a"}
      - {date: 2026-01-02, kind: holiday, name: "b"}
      - {date: 2026-01-05, kind: holiday, name: "c"}
      - {date: 2026-01-06,
         kind: holyday,
         name: "d"}
`, `calendar.yaml:10: years.2026.days[3].kind: unknown kind "holyday" (want holiday, compensatory, day_off, working_weekend)`},
		{"missing kind", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, name: "a"}
`, `calendar.yaml:6: years.2026.days[0].kind: unknown kind "" (want holiday, compensatory, day_off, working_weekend)`},
		{"working weekend on a weekday", `
years:
  2026:
    source: "test"
    days:
      - date: 2026-01-09
        kind: working_weekend
        name: "a"
`, `calendar.yaml:7: years.2026.days[0].kind: working_weekend on 2026-01-09, a Friday (want a Saturday or Sunday)`},
		{"holiday on a weekend", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-04-26, kind: holiday, name: "Giỗ Tổ Hùng Vương"}
`, `calendar.yaml:6: years.2026.days[0].kind: holiday on 2026-04-26, a Sunday (want a weekday; list a weekend holiday's compensatory day instead)`},
		{"day off on a weekend", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, kind: holiday, name: "a"}
      - {date: 2026-01-03, kind: day_off, name: "b"}
`, `calendar.yaml:7: years.2026.days[1].kind: day_off on 2026-01-03, a Saturday (want a weekday; list a weekend holiday's compensatory day instead)`},
		{"duplicate date", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, kind: holiday, name: "a"}
      - {date: 2026-01-02, kind: day_off, name: "b"}
      - {date: 2026-01-01, kind: day_off, name: "c"}
`, `calendar.yaml:8: years.2026.days[2].date: duplicate date 2026-01-01 (first at line 6)`},
		{"date outside its year", `
years:
  2026:
    source: "test"
    days:
      - {date: 2025-12-31, kind: holiday, name: "a"}
`, `calendar.yaml:6: years.2026.days[0].date: 2025-12-31 is not in 2026`},
		{"not a date", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-02-30, kind: holiday, name: "a"}
`, `calendar.yaml:6: years.2026.days[0].date: "2026-02-30" is not a date (want YYYY-MM-DD)`},
		{"missing name", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, kind: holiday}
`, `calendar.yaml:6: years.2026.days[0].name: missing`},
		{"missing source", `
years:
  2026:
    days:
      - {date: 2026-01-01, kind: holiday, name: "a", source: "x"}
      - {date: 2026-01-02, kind: holiday, name: "b"}
`, `calendar.yaml:6: years.2026.days[1].source: missing (set it on the entry or as years.2026.source)`},
		{"year out of range", `
years:
  2101:
    source: "test"
    days:
      - {date: 2101-01-03, kind: holiday, name: "a"}
`, `calendar.yaml:3: years.2101: year out of range (supported 2000–2100)`},
		{"no days", `
years:
  2027:
    source: "test"
`, `calendar.yaml:3: years.2027.days: missing or empty: an announced year replaces the computed defaults, so it lists all its exceptions`},
		{"unknown field", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, kind: holiday, nmae: "a"}
`, `calendar.yaml:6: field nmae not found in type sla.dayFile`},
		{"unknown top-level field", `
year:
  2026: {}
`, `calendar.yaml:2: field year not found in type sla.calendarFile`},
		{"year not a number", `
years:
  twenty:
    source: "test"
`, "calendar.yaml:3: cannot unmarshal !!str `twenty` into int"},
		{"syntax error", `
years:
  2026:
    days:
      - {date: 2026-01-01, kind: holiday
`, `calendar.yaml:4: did not find expected ',' or '}'`}, // the parser's own line: the enclosing key
		{"no years", `
years: {}
`, `calendar.yaml:2: years: missing or empty`},
		{"empty file", `
# nothing announced
`, `calendar.yaml: empty calendar file (want a top-level years: mapping)`},
		{"several errors", `
years:
  2026:
    source: "test"
    days:
      - {date: 2026-01-01, kind: holyday, name: "a"}
      - {date: 2026-01-03, kind: holiday, name: "b"}
`, `calendar.yaml:6: years.2026.days[0].kind: unknown kind "holyday" (want holiday, compensatory, day_off, working_weekend)
calendar.yaml:7: years.2026.days[1].kind: holiday on 2026-01-03, a Saturday (want a weekday; list a weekend holiday's compensatory day instead)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewCalendar("calendar.yaml", []byte(tt.file))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}
