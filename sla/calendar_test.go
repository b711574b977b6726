package sla

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// loadCalendar returns the shipped calendar: embedded announcements over the
// computed defaults.
func loadCalendar(t *testing.T) *Calendar {
	t.Helper()
	cal, err := LoadCalendar("")
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func day(y int, m time.Month, d int) civilDate { return civilDate{y, m, d} }

// line renders an entry as the holidays command lists it.
func line(e Entry) string {
	return fmt.Sprintf("%s %s %s", e.Date.Format(time.DateOnly), e.Kind, e.Name)
}

func TestExceptions2026(t *testing.T) {
	t.Parallel()
	got, err := loadCalendar(t).Exceptions(2026)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-01-01 holiday Tết Dương lịch – New Year's Day",
		"2026-01-02 day_off Nghỉ hoán đổi (làm bù thứ Bảy 10/1) – day off, swapped with Saturday 10 Jan",
		"2026-01-10 working_weekend Làm bù cho thứ Sáu 2/1 – working Saturday, swapped with Friday 2 Jan",
		"2026-02-16 holiday Tết Nguyên Đán (29 tháng Chạp) – Lunar New Year's Eve",
		"2026-02-17 holiday Tết Nguyên Đán (mùng 1) – Lunar New Year, day 1",
		"2026-02-18 holiday Tết Nguyên Đán (mùng 2) – Lunar New Year, day 2",
		"2026-02-19 holiday Tết Nguyên Đán (mùng 3) – Lunar New Year, day 3",
		"2026-02-20 holiday Tết Nguyên Đán (mùng 4) – Lunar New Year, day 4",
		"2026-04-27 compensatory Nghỉ bù Giỗ Tổ Hùng Vương 26/4 – compensatory day off for Hùng Kings' Commemoration",
		"2026-04-30 holiday Ngày Chiến thắng – Reunification Day",
		"2026-05-01 holiday Quốc tế Lao động – International Workers' Day",
		"2026-08-22 working_weekend Làm bù cho thứ Hai 31/8 – working Saturday, swapped with Monday 31 Aug",
		"2026-08-31 day_off Nghỉ hoán đổi (làm bù thứ Bảy 22/8) – day off, swapped with Saturday 22 Aug",
		"2026-09-01 holiday Quốc khánh (ngày liền kề) – National Day, adjacent day",
		"2026-09-02 holiday Quốc khánh – National Day",
	}
	if len(got) != len(want) {
		t.Errorf("Exceptions(2026) has %d entries, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if line(got[i]) != want[i] {
			t.Errorf("Exceptions(2026)[%d] = %q, want %q", i, line(got[i]), want[i])
		}
	}
	for _, e := range got {
		if e.Date.Location() != Location() || e.Date.Hour() != 0 {
			t.Errorf("%s: date %v, want midnight in Asia/Ho_Chi_Minh", line(e), e.Date)
		}
		if e.Source == "" {
			t.Errorf("%s: no source", line(e))
		}
	}
	if got[0].Source != "VPCP letter 12729/VPCP-KGVX of 25 Dec 2025" {
		t.Errorf("1 Jan 2026 source = %q", got[0].Source)
	}
	if got[9].Source != "computed default (not yet announced)" {
		t.Errorf("30 Apr 2026 source = %q", got[9].Source)
	}
}

func TestDayKinds(t *testing.T) {
	t.Parallel()
	cal := loadCalendar(t)
	computed := newCalendar(nil)
	tests := []struct {
		cal     *Calendar
		date    civilDate
		kind    Kind // "" for a day with no entry
		working bool
	}{
		{cal, day(2026, time.January, 1), KindHoliday, false},
		{cal, day(2026, time.January, 2), KindDayOff, false},
		{cal, day(2026, time.January, 10), KindWorkingWeekend, true}, // the swap: a working Saturday
		{cal, day(2026, time.January, 11), "", false},                // an ordinary Sunday
		{cal, day(2026, time.January, 7), "", true},                  // an ordinary Wednesday
		{cal, day(2026, time.April, 26), "", false},                  // Hùng Kings' day on a Sunday: no entry of its own
		{cal, day(2026, time.April, 27), KindCompensatory, false},
		{cal, day(2025, time.April, 26), KindWorkingWeekend, true},
		{cal, day(2025, time.May, 2), KindDayOff, false},
		// 2025 is announced: the computed compensatory day for mùng 4 (Sat 1 Feb) is
		// not in it, so Monday 3 Feb 2025 was a working day.
		{cal, day(2025, time.February, 3), "", true},
		{computed, day(2025, time.February, 3), KindCompensatory, false},
		// 2027 is computed: mùng 1 and mùng 2 fall on the weekend and stack two
		// compensatory days after the Tết block.
		{cal, day(2027, time.February, 5), KindHoliday, false},
		{cal, day(2027, time.February, 6), "", false},
		{cal, day(2027, time.February, 9), KindHoliday, false},
		{cal, day(2027, time.February, 10), KindCompensatory, false},
		{cal, day(2027, time.February, 11), KindCompensatory, false},
		{cal, day(2027, time.February, 12), "", true},
	}
	for _, tt := range tests {
		e, ok, err := tt.cal.Day(tt.date.time())
		if err != nil {
			t.Fatal(err)
		}
		if ok != (tt.kind != "") || e.Kind != tt.kind {
			t.Errorf("Day(%s) = %q, %v; want kind %q", tt.date, e.Kind, ok, tt.kind)
		}
		working, err := tt.cal.IsWorkingDay(tt.date.time())
		if err != nil {
			t.Fatal(err)
		}
		if working != tt.working {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", tt.date, working, tt.working)
		}
	}
}

func TestIsWorkingDayTakesTheDateInVietnam(t *testing.T) {
	t.Parallel()
	// 17:30 UTC on Friday 9 Jan 2026 is 00:30 on Saturday 10 Jan in Hanoi: the swap day.
	working, err := loadCalendar(t).IsWorkingDay(time.Date(2026, time.January, 9, 17, 30, 0, 0, time.UTC))
	if err != nil || !working {
		t.Errorf("IsWorkingDay = %v, %v; want true (Saturday 10 Jan 2026 in Vietnam)", working, err)
	}
}

func TestComputedDefaults(t *testing.T) {
	t.Parallel()
	cal := newCalendar(nil)
	tests := []struct {
		name string
		year int
		want []string // "date kind" of every exception in the given months
		in   []time.Month
	}{
		{"New Year on a Saturday", 2033, []string{"2033-01-03 compensatory", "2033-01-31 holiday"}, []time.Month{time.January}},
		{"New Year on a Sunday", 2034, []string{"2034-01-02 compensatory"}, []time.Month{time.January}},
		{"Hùng Kings' day, 30/4 on a weekend, stacked after 1/5", 2023, []string{
			"2023-05-01 holiday", "2023-05-02 compensatory", "2023-05-03 compensatory",
		}, []time.Month{time.April, time.May}},
		{"2/9 on a Monday takes 3/9", 2024, []string{"2024-09-02 holiday", "2024-09-03 holiday"}, []time.Month{time.September}},
		{"2/9 on a Tuesday takes 1/9", 2025, []string{"2025-09-01 holiday", "2025-09-02 holiday"}, []time.Month{time.September}},
		{"2/9 on a Wednesday takes 3/9", 2026, []string{"2026-09-02 holiday", "2026-09-03 holiday"}, []time.Month{time.September}},
		{"2/9 on a Thursday takes 3/9", 2027, []string{"2027-09-02 holiday", "2027-09-03 holiday"}, []time.Month{time.September}},
		{"2/9 on a Friday takes 1/9", 2033, []string{"2033-09-01 holiday", "2033-09-02 holiday"}, []time.Month{time.September}},
		{"2/9 on a Saturday takes 1/9 and a Monday", 2028, []string{"2028-09-01 holiday", "2028-09-04 compensatory"}, []time.Month{time.September}},
		{"2/9 on a Sunday: both days compensated", 2029, []string{"2029-09-03 compensatory", "2029-09-04 compensatory"}, []time.Month{time.September}},
		{"Tết with its eve on a Saturday", 2034, []string{
			"2034-01-02 compensatory",
			"2034-02-20 holiday", "2034-02-21 holiday", "2034-02-22 holiday",
			"2034-02-23 compensatory", "2034-02-24 compensatory",
		}, []time.Month{time.January, time.February}},
		{"Tết 2026 computed as announced", 2026, []string{
			"2026-01-01 holiday",
			"2026-02-16 holiday", "2026-02-17 holiday", "2026-02-18 holiday", "2026-02-19 holiday", "2026-02-20 holiday",
		}, []time.Month{time.January, time.February}},
	}
	for _, tt := range tests {
		entries, err := cal.Exceptions(tt.year)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			for _, m := range tt.in {
				if e.Date.Month() == m {
					got = append(got, e.Date.Format(time.DateOnly)+" "+string(e.Kind))
				}
			}
		}
		if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
		for _, e := range entries {
			if e.Source != SourceComputed {
				t.Errorf("%s: %s has source %q, want %q", tt.name, line(e), e.Source, SourceComputed)
			}
		}
	}
}

// TestEveryYear builds every supported year and checks the Labor Code's 11 days:
// each holiday is either a weekday off or earns exactly one compensatory day.
func TestEveryYear(t *testing.T) {
	t.Parallel()
	cal := loadCalendar(t)
	computed := newCalendar(nil)
	for y := MinYear; y <= MaxYear; y++ {
		if _, err := cal.Exceptions(y); err != nil {
			t.Fatalf("Exceptions(%d): %v", y, err)
		}
		ty, tm, td, err := LunarToSolar(LunarDate{Year: y, Month: 1, Day: 1})
		if err != nil {
			t.Fatal(err)
		}
		tet := day(ty, tm, td)
		if ty != y || tet.before(day(y, time.January, 21)) || day(y, time.February, 20).before(tet) {
			t.Errorf("Tết %d on %s, want 21 Jan–20 Feb", y, tet)
		}
		if working, _ := cal.IsWorkingDay(tet.time()); working {
			t.Errorf("Tết %d (%s) is a working day", y, tet)
		}
		entries, err := computed.Exceptions(y)
		if err != nil {
			t.Fatal(err)
		}
		seen := make(map[civilDate]bool)
		for _, e := range entries {
			if d := dateOf(e.Date); seen[d] {
				t.Errorf("%d: two entries on %s", y, d)
			} else {
				seen[d] = true
			}
			if wd := e.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Errorf("%d: %s falls on a weekend", y, line(e))
			}
		}
		if len(entries) != 11 {
			t.Errorf("%d: %d holidays and compensatory days, want 11", y, len(entries))
		}
	}
}

func TestYearsOutOfRange(t *testing.T) {
	t.Parallel()
	cal := loadCalendar(t)
	for _, y := range []int{MinYear - 1, MaxYear + 1} {
		if _, err := cal.Exceptions(y); !errors.Is(err, ErrYearOutOfRange) {
			t.Errorf("Exceptions(%d) error = %v, want ErrYearOutOfRange", y, err)
		}
		if _, err := cal.IsWorkingDay(day(y, time.June, 1).time()); !errors.Is(err, ErrYearOutOfRange) {
			t.Errorf("IsWorkingDay(%d-06-01) error = %v, want ErrYearOutOfRange", y, err)
		}
		if _, _, err := cal.Day(day(y, time.June, 1).time()); !errors.Is(err, ErrYearOutOfRange) {
			t.Errorf("Day(%d-06-01) error = %v, want ErrYearOutOfRange", y, err)
		}
	}
}

func TestCalendarConcurrentUse(t *testing.T) {
	t.Parallel()
	cal := loadCalendar(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for y := 2024; y <= 2030; y++ {
				if _, err := cal.IsWorkingDay(day(y, time.Month(1+i), 1).time()); err != nil {
					t.Error(err)
				}
				if _, err := cal.Exceptions(y); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}
