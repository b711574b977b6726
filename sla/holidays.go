package sla

import (
	"fmt"
	"sort"
	"time"
)

// SourceComputed marks an entry derived from the Labor Code rules rather than read
// from an announcement.
const SourceComputed = "computed default"

// holiday is a public holiday before weekends are taken into account.
type holiday struct {
	date   civilDate
	vi, en string // Vietnamese name and English gloss
	chosen bool   // a day the Prime Minister fixes each year; the default may not be the one announced
}

func (h holiday) name() string { return h.vi + " – " + h.en }

// statutoryHolidays returns the public holidays of a solar year under the Labor Code
// 2019, art. 112, with the days the Prime Minister fixes each year chosen by the
// default rules below. Holidays on a weekend are included: they earn compensation.
func statutoryHolidays(y int) []holiday {
	hs := []holiday{{civilDate{y, time.January, 1}, "Tết Dương lịch", "New Year's Day", false}}

	// Tết: the law gives 5 days and leaves the exact days to the Prime Minister. The
	// default is the last day of the lunar year (29 or 30 tháng Chạp) and mùng 1–4,
	// i.e. one day before and four from New Year's day, the split most often chosen.
	ny, m, d, err := LunarToSolar(LunarDate{Year: y, Month: 1, Day: 1})
	if err != nil {
		panic(fmt.Sprintf("sla: lunar new year %d: %v", y, err)) // month 1 day 1 always exists
	}
	tet := civilDate{ny, m, d}
	eve := tet.addDays(-1)
	hs = append(hs, holiday{eve, fmt.Sprintf("Tết Nguyên Đán (%d tháng Chạp)", lunarOf(eve).Day), "Lunar New Year's Eve", true})
	for i := 0; i < 4; i++ {
		hs = append(hs, holiday{tet.addDays(i), fmt.Sprintf("Tết Nguyên Đán (mùng %d)", i+1), fmt.Sprintf("Lunar New Year, day %d", i+1), i > 0})
	}

	// Hùng Kings' day is the 10th of the 3rd lunar month; in a year where the 3rd month
	// is repeated, the regular (first) one counts.
	hy, hm, hd, err := LunarToSolar(LunarDate{Year: y, Month: 3, Day: 10})
	if err != nil {
		panic(fmt.Sprintf("sla: Hùng Kings' day %d: %v", y, err)) // day 10 always exists
	}
	hs = append(hs,
		holiday{civilDate{hy, hm, hd}, "Giỗ Tổ Hùng Vương", "Hùng Kings' Commemoration", false},
		holiday{civilDate{y, time.April, 30}, "Ngày Chiến thắng", "Reunification Day", false},
		holiday{civilDate{y, time.May, 1}, "Quốc tế Lao động", "International Workers' Day", false},
		holiday{civilDate{y, time.September, 2}, "Quốc khánh", "National Day", false},
		holiday{nationalDayAdjacent(y), "Quốc khánh (ngày liền kề)", "National Day, adjacent day", true},
	)
	return hs
}

// fixedHoliday returns the public holiday whose date the Labor Code fixes (not one
// the Prime Minister chooses) that falls on d, if any: a weekend day skipped in a
// count is named after it, since the calendar lists only its compensatory day.
func fixedHoliday(d civilDate) (holiday, bool) {
	for _, h := range statutoryHolidays(d.year) {
		if h.date == d && !h.chosen {
			return h, true
		}
	}
	return holiday{}, false
}

// nationalDayAdjacent picks the day next to 2 September that the law adds to National
// Day and the Prime Minister fixes each year. The default joins the holiday to a
// weekend where it can: Tuesday's 2/9 takes Monday 1/9 (Sat–Tue off), Monday's and
// Thursday's take the day after (Sat–Tue, Thu–Sun), Wednesday's takes Thursday, and
// Friday's, Saturday's and Sunday's take 1 September. A Wednesday joins no weekend
// without a swap: for 2026 the announcement took Tuesday 1/9 and swapped Monday 31/8.
func nationalDayAdjacent(y int) civilDate {
	switch (civilDate{y, time.September, 2}).weekday() {
	case time.Monday, time.Wednesday, time.Thursday:
		return civilDate{y, time.September, 3}
	default:
		return civilDate{y, time.September, 1}
	}
}

func lunarOf(d civilDate) LunarDate { return SolarToLunar(d.year, d.month, d.day) }

// defaultEntries computes the calendar of a year that has no announcement: statutory
// holidays on weekdays, plus one compensatory day for each holiday on a Saturday or
// Sunday (Decree 145/2020/NĐ-CP, art. 58), taken on the first weekday after the
// holiday that is neither a holiday nor already a compensatory day, so that several
// stack onto the days following the holiday block. The neighbouring years' holidays
// take part, so the rule holds across 31 December.
func defaultEntries(y int) []Entry {
	var hs []holiday
	for yy := y - 1; yy <= y+1; yy++ {
		hs = append(hs, statutoryHolidays(yy)...)
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].date.before(hs[j].date) })
	off := make(map[civilDate]bool, len(hs))
	for _, h := range hs {
		off[h.date] = true
	}

	// No two holidays share a date: in 2000–2100 Hùng Kings' day falls on 29 April
	// at the latest (TestEveryYear checks it), so each date gets one entry.
	var out []Entry
	put := func(d civilDate, name string, kind Kind) {
		if d.year == y {
			out = append(out, Entry{Date: d.time(), Name: name, Kind: kind, Source: SourceComputed})
		}
	}
	for _, h := range hs {
		if !h.date.weekend() {
			put(h.date, h.name(), KindHoliday)
			continue
		}
		d := h.date.addDays(1)
		for d.weekend() || off[d] {
			d = d.addDays(1)
		}
		off[d] = true
		put(d, fmt.Sprintf("Nghỉ bù %s %d/%d – compensatory day off for %s", h.vi, h.date.day, int(h.date.month), h.en), KindCompensatory)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}
