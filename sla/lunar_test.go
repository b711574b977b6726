package sla

import (
	"testing"
	"time"
)

// TestKnownLunarDates checks Tết (1/1) and Hùng Kings' day (10/3) against the dates
// published in Vietnam.
func TestKnownLunarDates(t *testing.T) {
	t.Parallel()
	tet := func(y int) LunarDate { return LunarDate{Year: y, Month: 1, Day: 1} }
	hung := func(y int) LunarDate { return LunarDate{Year: y, Month: 3, Day: 10} }
	tests := []struct {
		lunar LunarDate
		want  string
	}{
		{tet(1985), "1985-01-21"}, // China: 20 Feb 1985
		{tet(2000), "2000-02-05"},
		{tet(2007), "2007-02-17"}, // China: 18 Feb 2007
		{tet(2019), "2019-02-05"},
		{tet(2020), "2020-01-25"},
		{tet(2021), "2021-02-12"},
		{tet(2022), "2022-02-01"},
		{tet(2023), "2023-01-22"},
		{tet(2024), "2024-02-10"},
		{tet(2025), "2025-01-29"},
		{tet(2026), "2026-02-17"},
		{tet(2027), "2027-02-06"},
		// The new moon of 2 Feb 2030 is at about 23:07 at UTC+7 but 00:07 on 3 Feb at
		// UTC+8: Tết is 2 Feb in Vietnam and 3 Feb in China.
		{tet(2030), "2030-02-02"},
		{tet(2053), "2053-02-18"},  // the next such year; China: 19 Feb
		{hung(2023), "2023-04-29"}, // after the leap 2nd month of 2023
		{hung(2024), "2024-04-18"},
		{hung(2025), "2025-04-07"},
		{hung(2026), "2026-04-26"},
	}
	for _, tt := range tests {
		y, m, d, err := LunarToSolar(tt.lunar)
		if err != nil {
			t.Fatalf("LunarToSolar(%s): %v", tt.lunar, err)
		}
		if got := (civilDate{y, m, d}).String(); got != tt.want {
			t.Errorf("LunarToSolar(%s) = %s, want %s", tt.lunar, got, tt.want)
		}
	}
}

func TestSolarToLunar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		date civilDate
		want LunarDate
	}{
		{civilDate{2026, time.February, 16}, LunarDate{2025, 12, 29, false}}, // Tết 2026's eve: no 30 tháng Chạp
		{civilDate{2026, time.February, 14}, LunarDate{2025, 12, 27, false}},
		{civilDate{2025, time.January, 25}, LunarDate{2024, 12, 26, false}},
		{civilDate{2026, time.January, 1}, LunarDate{2025, 11, 13, false}},
		{civilDate{2023, time.March, 21}, LunarDate{2023, 2, 30, false}},
		{civilDate{2023, time.March, 22}, LunarDate{2023, 2, 1, true}}, // leap 2nd month
		{civilDate{2020, time.May, 23}, LunarDate{2020, 4, 1, true}},   // leap 4th month
		{civilDate{2020, time.June, 21}, LunarDate{2020, 5, 1, false}},
	}
	for _, tt := range tests {
		if got := SolarToLunar(tt.date.year, tt.date.month, tt.date.day); got != tt.want {
			t.Errorf("SolarToLunar(%s) = %s, want %s", tt.date, got, tt.want)
		}
	}
}

func TestLunarToSolarRejectsDatesThatDoNotExist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   LunarDate
		want string
	}{
		{LunarDate{2023, 3, 1, true}, "lunar date 1/3 nhuận/2023: year 2023 has no leap month 3"},
		{LunarDate{2026, 5, 1, true}, "lunar date 1/5 nhuận/2026: year 2026 has no leap month"},
		{LunarDate{2025, 12, 30, false}, "lunar date 30/12/2025: that month has 29 days"},
		{LunarDate{2025, 13, 1, false}, "lunar date 1/13/2025: month must be 1–12 and day 1–30"},
		{LunarDate{2025, 1, 0, false}, "lunar date 0/1/2025: month must be 1–12 and day 1–30"},
	}
	for _, tt := range tests {
		_, _, _, err := LunarToSolar(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("LunarToSolar(%s) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// TestLunarRoundTrip converts every day of 2000–2100 to the lunar calendar and back,
// and checks that consecutive days are consecutive lunar days.
func TestLunarRoundTrip(t *testing.T) {
	t.Parallel()
	d := civilDate{MinYear, time.January, 1}
	prev := SolarToLunar(1999, time.December, 31)
	for d.year <= MaxYear {
		l := SolarToLunar(d.year, d.month, d.day)
		y, m, dd, err := LunarToSolar(l)
		if err != nil || (civilDate{y, m, dd}) != d {
			t.Fatalf("%s -> %s -> %04d-%02d-%02d (%v)", d, l, y, m, dd, err)
		}
		switch {
		case l.Day == prev.Day+1 && l.Month == prev.Month && l.Leap == prev.Leap && l.Year == prev.Year:
		case l.Day == 1 && prev.Day >= 29:
			next := prev.Month + 1
			if l.Leap {
				next = prev.Month // a leap month repeats the month before it
			}
			if next == 13 {
				next = 1
			}
			if l.Month != next || (l.Month == 1 && l.Year != prev.Year+1) {
				t.Fatalf("%s: lunar %s follows %s", d, l, prev)
			}
		default:
			t.Fatalf("%s: lunar %s follows %s", d, l, prev)
		}
		prev = l
		d = d.addDays(1)
	}
}
