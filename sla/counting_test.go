package sla

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func newCountingSchedule(t *testing.T, hours OfficeHours, counting Counting) *Schedule {
	t.Helper()
	s, err := NewScheduleCounting(loadCalendar(t), hours, counting)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustLimit(t *testing.T, s string) Limit {
	t.Helper()
	l, err := ParseLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestDeadlineDates follows the legal counting: Civil Code 2015 art. 147 (the day
// of the event is not counted), art. 148 (a period ends with its last day, moved
// to the next working day when that is not one; months end on the corresponding
// day), and the calendar of the announcements in calendars/vn.yaml.
func TestDeadlineDates(t *testing.T) {
	t.Parallel()
	def := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	early := DefaultOfficeHours()
	early.Cutoff = hm(16, 0)
	agency := newCountingSchedule(t, early, CountDates)
	checkDeadlines(t, []deadlineCase{
		// Working days: day 1 is the working day after the receipt day.
		{"art. 147(2): the receipt day is not counted", def, vn(2026, 3, 2, 7, 30), "1wd", nil, vn(2026, 3, 3, 17, 0)},
		{"art. 147: 5wd over Hùng Kings' compensatory Monday and 30/4–1/5", def, vn(2026, 4, 23, 9, 0), "5wd", nil, vn(2026, 5, 5, 17, 0)},
		{"art. 147: received at the cut-off counts the next working day", def, vn(2026, 3, 3, 17, 0), "1wd", nil, vn(2026, 3, 5, 17, 0)},
		{"art. 147: received after an agency's 16:00 cut-off", agency, vn(2026, 3, 3, 16, 30), "1wd", nil, vn(2026, 3, 5, 17, 0)},
		{"art. 147: received before an agency's 16:00 cut-off", agency, vn(2026, 3, 3, 15, 59), "1wd", nil, vn(2026, 3, 4, 17, 0)},
		{"art. 147: received before opening counts that day", def, vn(2026, 3, 3, 6, 0), "1wd", nil, vn(2026, 3, 4, 17, 0)},
		{"art. 147: received on a Saturday counts on Monday", def, vn(2026, 3, 7, 10, 0), "1wd", nil, vn(2026, 3, 10, 17, 0)},
		{"art. 147: received on a holiday (30/4) counts after 1/5 and the weekend", def, vn(2026, 4, 30, 9, 0), "1wd", nil, vn(2026, 5, 5, 17, 0)},
		{"art. 147: across Tết 2026 (14–22 Feb)", def, vn(2026, 2, 12, 15, 0), "5wd", nil, vn(2026, 2, 26, 17, 0)},
		{"art. 147: received during Tết 2026", def, vn(2026, 2, 17, 10, 0), "1wd", nil, vn(2026, 2, 24, 17, 0)},
		{"VPCP 12729/VPCP-KGVX: Saturday 10 Jan 2026 is day 1", def, vn(2026, 1, 9, 8, 0), "1wd", nil, vn(2026, 1, 10, 17, 0)},
		{"VPCP 12729/VPCP-KGVX: received on the working Saturday", def, vn(2026, 1, 10, 9, 0), "1wd", nil, vn(2026, 1, 12, 17, 0)},
		{"VPCP 12729/VPCP-KGVX: received on New Year's Eve after hours", def, vn(2025, 12, 31, 17, 30), "1wd", nil, vn(2026, 1, 6, 17, 0)},
		{"art. 147: over computed Tết 2027 and its compensatory days", def, vn(2027, 2, 3, 8, 0), "3wd", nil, vn(2027, 2, 15, 17, 0)},

		// Working days with pauses: office time rounded up to whole days.
		{
			"pauses: ten minutes of office time add a working day", def, vn(2026, 3, 2, 8, 0), "1wd",
			[]Interval{{vn(2026, 3, 3, 8, 0), vn(2026, 3, 3, 8, 10)}},
			vn(2026, 3, 4, 17, 0),
		},
		{
			"pauses: one office day adds one working day", def, vn(2026, 3, 2, 8, 0), "2wd",
			[]Interval{{vn(2026, 3, 3, 7, 30), vn(2026, 3, 3, 17, 0)}},
			vn(2026, 3, 5, 17, 0),
		},
		{
			"art. 147: a pause on the receipt day adds nothing", def, vn(2026, 3, 2, 8, 0), "1wd",
			[]Interval{{vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 16, 0)}},
			vn(2026, 3, 3, 17, 0),
		},
		{
			"pauses: outside office hours add nothing", def, vn(2026, 3, 2, 8, 0), "1wd",
			[]Interval{{vn(2026, 3, 3, 17, 30), vn(2026, 3, 4, 7, 0)}},
			vn(2026, 3, 3, 17, 0),
		},
		{
			"pauses: spanning Tết 2026, 30 office hours add 4 working days", def, vn(2026, 2, 9, 8, 0), "5wd",
			[]Interval{{vn(2026, 2, 12, 8, 0), vn(2026, 2, 25, 8, 0)}},
			vn(2026, 2, 27, 17, 0),
		},

		// Calendar days: day 1 is the day after the receipt day; a last day that
		// is not a working day gives way to the next working day.
		{"art. 148(5): 15d ending Saturday 9 May moves to Monday", def, vn(2026, 4, 24, 8, 0), "15d", nil, vn(2026, 5, 11, 17, 0)},
		{
			"art. 148(5): a 33-hour pause adds 2 days, landing on that Monday, at the close of office", def, vn(2026, 4, 24, 8, 0), "15d",
			[]Interval{{vn(2026, 4, 27, 8, 0), vn(2026, 4, 28, 17, 0)}},
			vn(2026, 5, 11, 17, 0),
		},
		{
			"art. 148(1): a 72-hour pause moves the last day 3 days", def, vn(2026, 4, 24, 8, 0), "15d",
			[]Interval{{vn(2026, 4, 27, 8, 0), vn(2026, 4, 30, 8, 0)}},
			vn(2026, 5, 12, 17, 0),
		},
		{"art. 148(5): a period ending on a Sunday", def, vn(2026, 3, 2, 10, 0), "6d", nil, vn(2026, 3, 9, 17, 0)},
		{"art. 147(3): received after the cut-off", def, vn(2026, 3, 2, 17, 30), "1d", nil, vn(2026, 3, 4, 17, 0)},
		{"art. 147(3): received on a Saturday", def, vn(2026, 3, 7, 10, 0), "2d", nil, vn(2026, 3, 11, 17, 0)},
		{"art. 147(3): received on a holiday (30/4)", def, vn(2026, 4, 30, 9, 0), "3d", nil, vn(2026, 5, 7, 17, 0)},
		{"art. 148(5): ending in Tết 2026 moves past it", def, vn(2026, 2, 9, 9, 0), "7d", nil, vn(2026, 2, 23, 17, 0)},
		{"art. 148(5): ending on the swap's working Saturday stays there", def, vn(2026, 1, 7, 9, 0), "3d", nil, vn(2026, 1, 10, 17, 0)},
		{"art. 147(2): a pause on the receipt day adds nothing", def, vn(2026, 3, 2, 8, 0), "2d",
			[]Interval{{vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 23, 0)}}, vn(2026, 3, 4, 17, 0)},

		// Months end on the corresponding day, or the month's last day.
		{"art. 148(3): from the 31st to a Sunday the 31st, moved to Monday", def, vn(2026, 3, 31, 9, 0), "2m", nil, vn(2026, 6, 1, 17, 0)},
		{"art. 148(3), (5): the 31st to 30 April, a holiday", def, vn(2026, 3, 31, 9, 0), "1m", nil, vn(2026, 5, 4, 17, 0)},
		{"art. 148(3): 31 Jan to 29 Feb in a leap year", def, vn(2024, 1, 31, 9, 0), "1m", nil, vn(2024, 2, 29, 17, 0)},
		{"art. 148(3), (5): 31 Dec to Sunday 31 Jan 2027", def, vn(2026, 12, 31, 9, 0), "1m", nil, vn(2027, 2, 1, 17, 0)},
		{
			"art. 148(3): a 4-hour pause moves the month's last day by one", def, vn(2026, 3, 31, 9, 0), "2m",
			[]Interval{{vn(2026, 4, 1, 10, 0), vn(2026, 4, 1, 14, 0)}},
			vn(2026, 6, 1, 17, 0),
		},

		// Hours stay office time.
		{"art. 147(1): hours from the receipt instant, in office time", def, vn(2026, 3, 2, 11, 0), "8h", nil, vn(2026, 3, 3, 11, 30)},
	})
}

// TestPausesNeverEarlier checks, on random receipts, limits and pauses, that under
// CountDates a pause never makes a due earlier, and that a due counted in days is
// always at the close of office.
func TestPausesNeverEarlier(t *testing.T) {
	t.Parallel()
	s := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	r := rand.New(rand.NewPCG(1, 2))
	from := vn(2025, 1, 1, 0, 0)
	limits := []string{"1wd", "5wd", "15wd", "1d", "7d", "15d", "30d", "1m", "3m", "8h"}
	for n := 0; n < 2000; n++ {
		recv := from.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour)))).Truncate(time.Minute)
		limit := mustLimit(t, limits[r.IntN(len(limits))])
		var pauses []Interval
		at := recv
		for k := r.IntN(3) + 1; k > 0; k-- {
			a := at.Add(time.Duration(r.Int64N(int64(10 * 24 * time.Hour))))
			b := a.Add(time.Duration(r.Int64N(int64(5*24*time.Hour))) + time.Minute)
			pauses = append(pauses, Interval{a, b})
			at = b
		}
		plain, err := s.Deadline(recv, limit, nil)
		if err != nil {
			t.Fatal(err)
		}
		paused, err := s.Deadline(recv, limit, pauses)
		if err != nil {
			t.Fatal(err)
		}
		if paused.Before(plain) {
			t.Fatalf("received %s, %s, pauses %v: paused due %s is before the unpaused %s", recv, limit, pauses, paused, plain)
		}
		if limit.Unit != WorkingHours && (sinceMidnight(paused) != hm(17, 0) || sinceMidnight(plain) != hm(17, 0)) {
			t.Fatalf("received %s, %s, pauses %v: dues %s and %s, want both at the close of office", recv, limit, pauses, plain, paused)
		}
		if ok, _ := s.Calendar().IsWorkingDay(paused); !ok {
			t.Fatalf("received %s, %s, pauses %v: due %s is not on a working day", recv, limit, pauses, paused)
		}
	}
}

// The explanation names every non-working day skipped: Hùng Kings' day on Sunday
// 26 April 2026 gives the compensatory Monday 27 April (Decree 145/2020/NĐ-CP art.
// 58), and 30 April and 1 May are holidays (Labor Code 2019 art. 112).
func TestComputeExplainsWorkingDays(t *testing.T) {
	t.Parallel()
	s := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	c, err := s.Compute(vn(2026, 4, 23, 9, 0), mustLimit(t, "5wd"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Counting != CountDates || c.Limit.String() != "5wd" || c.ReceiptMoved != ReceiptKept ||
		!c.ReceiptDay.Equal(vn(2026, 4, 23, 0, 0)) || !c.FirstDay.Equal(vn(2026, 4, 24, 0, 0)) ||
		!c.LastDay.Equal(vn(2026, 5, 5, 0, 0)) || c.Days != 5 || !c.Due.Equal(vn(2026, 5, 5, 17, 0)) ||
		!c.Start.IsZero() || c.OfficeTime != 0 {
		t.Errorf("computation = %+v", c)
	}
	want := []string{
		"2026-04-25 not_counted weekend Thứ Bảy – Saturday",
		"2026-04-26 not_counted weekend Chủ Nhật – Sunday, Giỗ Tổ Hùng Vương – Hùng Kings' Commemoration",
		"2026-04-27 not_counted compensatory Nghỉ bù Giỗ Tổ Hùng Vương 26/4 – compensatory day off for Hùng Kings' Commemoration",
		"2026-04-30 not_counted holiday Ngày Chiến thắng – Reunification Day",
		"2026-05-01 not_counted holiday Quốc tế Lao động – International Workers' Day",
		"2026-05-02 not_counted weekend Thứ Bảy – Saturday",
		"2026-05-03 not_counted weekend Chủ Nhật – Sunday",
	}
	if got := skippedLines(c); !reflect.DeepEqual(got, want) {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func skippedLines(c Computation) []string {
	var out []string
	for _, d := range c.Skipped {
		out = append(out, strings.Join([]string{d.Date.Format(time.DateOnly), string(d.Skip), string(d.Kind), d.Name}, " "))
	}
	return out
}

func TestComputeExplainsReceiptAndEnd(t *testing.T) {
	t.Parallel()
	dates := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	office := newCountingSchedule(t, DefaultOfficeHours(), CountOfficeHours)
	tests := []struct {
		name     string
		s        *Schedule
		received time.Time
		limit    string
		pauses   []Interval
		check    func(Computation) bool
		skipped  []string
	}{
		{
			"art. 147: after the cut-off on a Friday, the weekend passed over at receipt", dates, vn(2026, 3, 6, 17, 30), "1wd", nil,
			func(c Computation) bool {
				return c.ReceiptMoved == ReceiptAfterCutoff && c.ReceiptDay.Equal(vn(2026, 3, 9, 0, 0)) && c.Due.Equal(vn(2026, 3, 10, 17, 0))
			},
			[]string{"2026-03-07 receipt weekend Thứ Bảy – Saturday", "2026-03-08 receipt weekend Chủ Nhật – Sunday"},
		},
		{
			"art. 147: on the 2 Jan day off, swapped (VPCP 12729/VPCP-KGVX)", dates, vn(2026, 1, 2, 9, 0), "1wd", nil,
			func(c Computation) bool {
				return c.ReceiptMoved == ReceiptNonWorkingDay && c.ReceiptDay.Equal(vn(2026, 1, 5, 0, 0)) && c.Due.Equal(vn(2026, 1, 6, 17, 0))
			},
			[]string{
				"2026-01-02 receipt day_off Nghỉ hoán đổi (làm bù thứ Bảy 10/1) – day off, swapped with Saturday 10 Jan",
				"2026-01-03 receipt weekend Thứ Bảy – Saturday",
				"2026-01-04 receipt weekend Chủ Nhật – Sunday",
			},
		},
		{
			"art. 148(5): the unpaused 15d ends Saturday, moved to Monday", dates, vn(2026, 4, 24, 8, 0), "15d", nil,
			func(c Computation) bool {
				return c.FirstDay.Equal(vn(2026, 4, 25, 0, 0)) && c.LastDay.Equal(vn(2026, 5, 9, 0, 0)) && c.Days == 15 &&
					c.AddedDays == 0 && c.Due.Equal(vn(2026, 5, 11, 17, 0))
			},
			[]string{"2026-05-09 period_end weekend Thứ Bảy – Saturday", "2026-05-10 period_end weekend Chủ Nhật – Sunday"},
		},
		{
			"art. 148: the paused 15d counts 33 hours as 2 days", dates, vn(2026, 4, 24, 8, 0), "15d",
			[]Interval{{vn(2026, 4, 28, 8, 0), vn(2026, 4, 28, 17, 0)}, {vn(2026, 4, 27, 8, 0), vn(2026, 4, 28, 9, 0)}},
			func(c Computation) bool {
				return len(c.Pauses) == 1 && c.Pauses[0].Counted == 33*time.Hour && c.Paused == 33*time.Hour &&
					c.AddedDays == 2 && c.LastDay.Equal(vn(2026, 5, 11, 0, 0)) && c.Days == 17 && c.Due.Equal(vn(2026, 5, 11, 17, 0))
			},
			nil,
		},
		{
			"office_hours: office time from the receipt instant, Tết passed over", office, vn(2026, 2, 12, 15, 0), "5wd",
			[]Interval{{vn(2026, 2, 12, 16, 0), vn(2026, 2, 13, 8, 0)}},
			func(c Computation) bool {
				return c.Start.Equal(vn(2026, 2, 12, 15, 0)) && c.Paused == hm(1, 30) && c.OfficeTime == hm(39, 0) &&
					c.Days == 0 && c.Due.Equal(vn(2026, 2, 26, 16, 30))
			},
			[]string{
				"2026-02-14 not_counted weekend Thứ Bảy – Saturday",
				"2026-02-15 not_counted weekend Chủ Nhật – Sunday",
				"2026-02-16 not_counted holiday Tết Nguyên Đán (29 tháng Chạp) – Lunar New Year's Eve",
				"2026-02-17 not_counted holiday Tết Nguyên Đán (mùng 1) – Lunar New Year, day 1",
				"2026-02-18 not_counted holiday Tết Nguyên Đán (mùng 2) – Lunar New Year, day 2",
				"2026-02-19 not_counted holiday Tết Nguyên Đán (mùng 3) – Lunar New Year, day 3",
				"2026-02-20 not_counted holiday Tết Nguyên Đán (mùng 4) – Lunar New Year, day 4",
				"2026-02-21 not_counted weekend Thứ Bảy – Saturday",
				"2026-02-22 not_counted weekend Chủ Nhật – Sunday",
			},
		},
	}
	for _, tt := range tests {
		c, err := tt.s.Compute(tt.received, mustLimit(t, tt.limit), tt.pauses)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("%s: computation = %+v", tt.name, c)
		}
		if got := skippedLines(c); !reflect.DeepEqual(got, tt.skipped) {
			t.Errorf("%s: skipped:\n%s\nwant:\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.skipped, "\n"))
		}
		if due, err := tt.s.Deadline(tt.received, mustLimit(t, tt.limit), tt.pauses); err != nil || !due.Equal(c.Due) {
			t.Errorf("%s: Deadline = %s, %v; Compute's due %s", tt.name, due, err, c.Due)
		}
	}
}

func TestCounting(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"dates", "office_hours"} {
		if c, err := ParseCounting(s); err != nil || string(c) != s {
			t.Errorf("ParseCounting(%q) = %q, %v", s, c, err)
		}
	}
	const want = `unknown counting "bogus" (want one of: dates, office_hours)`
	if _, err := ParseCounting("bogus"); err == nil || err.Error() != want {
		t.Errorf("ParseCounting(bogus) error = %v, want %s", err, want)
	}
	if _, err := NewScheduleCounting(loadCalendar(t), DefaultOfficeHours(), ""); err == nil || err.Error() != `schedule: unknown counting "" (want one of: dates, office_hours)` {
		t.Errorf("NewScheduleCounting(\"\") error = %v", err)
	}
	s, err := NewSchedule(loadCalendar(t), DefaultOfficeHours())
	if err != nil || s.Counting() != CountOfficeHours {
		t.Errorf("NewSchedule counts %q, %v; want office_hours, the arithmetic its callers had", s.Counting(), err)
	}
	if DefaultCounting != CountDates || Countings()[0] != DefaultCounting {
		t.Errorf("the default counting is %q, want dates, listed first", DefaultCounting)
	}
}

func TestMergeIntervals(t *testing.T) {
	t.Parallel()
	in := []Interval{
		{vn(2026, 3, 2, 13, 0), vn(2026, 3, 2, 14, 0)},
		{vn(2026, 3, 2, 8, 0), vn(2026, 3, 2, 9, 0)},
		{vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 10, 0)}, // touches the one before
		{vn(2026, 3, 2, 13, 30), vn(2026, 3, 2, 13, 45)},
	}
	orig := append([]Interval(nil), in...)
	want := []Interval{{vn(2026, 3, 2, 8, 0), vn(2026, 3, 2, 10, 0)}, {vn(2026, 3, 2, 13, 0), vn(2026, 3, 2, 14, 0)}}
	if got := MergeIntervals(in); !reflect.DeepEqual(got, want) {
		t.Errorf("MergeIntervals = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Errorf("MergeIntervals changed its argument: %v", in)
	}
	if got := MergeIntervals(nil); len(got) != 0 {
		t.Errorf("MergeIntervals(nil) = %v", got)
	}
}
