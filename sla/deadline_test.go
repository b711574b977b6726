package sla

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// vn returns a wall-clock time in Asia/Ho_Chi_Minh.
func vn(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, Location())
}

func newTestSchedule(t *testing.T, hours OfficeHours) *Schedule {
	t.Helper()
	s, err := NewSchedule(loadCalendar(t), hours)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEffectiveStart(t *testing.T) {
	t.Parallel()
	def := newTestSchedule(t, DefaultOfficeHours())
	early := DefaultOfficeHours()
	early.Cutoff = hm(16, 0)
	agency := newTestSchedule(t, early)
	tests := []struct {
		name     string
		s        *Schedule
		received time.Time
		want     time.Time
	}{
		{"during a session", def, vn(2026, 3, 3, 9, 15), vn(2026, 3, 3, 9, 15)},
		{"before opening", def, vn(2026, 3, 3, 6, 0), vn(2026, 3, 3, 7, 30)},
		{"during lunch", def, vn(2026, 3, 3, 12, 0), vn(2026, 3, 3, 13, 30)},
		{"at the end of the morning", def, vn(2026, 3, 3, 11, 30), vn(2026, 3, 3, 13, 30)},
		{"at the cutoff", def, vn(2026, 3, 3, 17, 0), vn(2026, 3, 4, 7, 30)},
		{"in the evening", def, vn(2026, 3, 3, 21, 0), vn(2026, 3, 4, 7, 30)},
		{"before an agency's 16:00 cutoff", agency, vn(2026, 3, 3, 15, 59), vn(2026, 3, 3, 15, 59)},
		{"after an agency's 16:00 cutoff", agency, vn(2026, 3, 3, 16, 30), vn(2026, 3, 4, 7, 30)},
		{"on a Saturday", def, vn(2026, 3, 7, 10, 0), vn(2026, 3, 9, 7, 30)},
		{"on a holiday", def, vn(2026, 4, 30, 9, 0), vn(2026, 5, 4, 7, 30)},
		{"on the working Saturday of a swap", def, vn(2026, 1, 10, 9, 0), vn(2026, 1, 10, 9, 0)},
		{"on New Year's Eve after hours", def, vn(2025, 12, 31, 17, 30), vn(2026, 1, 5, 7, 30)},
		{"in another zone", def, time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC), vn(2026, 3, 3, 9, 0)},
	}
	for _, tt := range tests {
		got, err := tt.s.EffectiveStart(tt.received)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s: EffectiveStart(%s) = %s, want %s", tt.name, tt.received, got, tt.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	def := newTestSchedule(t, DefaultOfficeHours())
	early := DefaultOfficeHours()
	early.Cutoff = hm(16, 0)
	agency := newTestSchedule(t, early)
	tests := []deadlineCase{
		// Working days: 7h30 of office time each.
		{"5 working days", def, vn(2026, 3, 2, 8, 0), "5wd", nil, vn(2026, 3, 9, 8, 0)},
		{"a day ending at a session end stays there", def, vn(2026, 3, 2, 7, 30), "1wd", nil, vn(2026, 3, 2, 17, 0)},
		{"received on a weekend", def, vn(2026, 3, 7, 10, 0), "1wd", nil, vn(2026, 3, 9, 17, 0)},
		{"received on a holiday", def, vn(2026, 4, 30, 9, 0), "1wd", nil, vn(2026, 5, 4, 17, 0)},
		{"received after the cutoff", def, vn(2026, 3, 3, 17, 0), "1wd", nil, vn(2026, 3, 4, 17, 0)},
		{"received after an agency's cutoff", agency, vn(2026, 3, 3, 16, 30), "2h", nil, vn(2026, 3, 4, 9, 30)},
		{"received before an agency's cutoff", agency, vn(2026, 3, 3, 15, 59), "2h", nil, vn(2026, 3, 4, 8, 29)},
		{"received during lunch", def, vn(2026, 3, 3, 12, 0), "4h", nil, vn(2026, 3, 4, 8, 0)},
		{"received before opening", def, vn(2026, 3, 3, 6, 0), "8h", nil, vn(2026, 3, 4, 8, 0)},
		{"working hours over a night", def, vn(2026, 3, 2, 16, 0), "8h", nil, vn(2026, 3, 3, 16, 30)},
		{"the swap's Saturday is a working day", def, vn(2026, 1, 9, 8, 0), "1wd", nil, vn(2026, 1, 10, 8, 0)},
		{"over New Year 2026 (1 Jan holiday, 2 Jan off)", def, vn(2025, 12, 31, 8, 0), "1wd", nil, vn(2026, 1, 5, 8, 0)},
		{"31 Dec after hours to 2 Jan (computed 2031)", def, vn(2030, 12, 31, 17, 30), "1wd", nil, vn(2031, 1, 2, 17, 0)},
		{"over Tết 2026", def, vn(2026, 2, 12, 15, 0), "5wd", nil, vn(2026, 2, 26, 15, 0)},
		{"over computed Tết 2027 and its compensatory days", def, vn(2027, 2, 3, 8, 0), "3wd", nil, vn(2027, 2, 15, 8, 0)},

		// Pauses move a working-day deadline by the office time they cover.
		{
			"a pause spanning Tết 2026", def, vn(2026, 2, 9, 8, 0), "5wd",
			[]Interval{{vn(2026, 2, 12, 8, 0), vn(2026, 2, 25, 8, 0)}},
			vn(2026, 2, 27, 8, 0),
		},
		{
			"overlapping pauses merge; time before receipt does not count", def, vn(2026, 3, 2, 8, 0), "1wd",
			[]Interval{{vn(2026, 3, 2, 8, 30), vn(2026, 3, 2, 10, 0)}, {vn(2026, 3, 2, 6, 0), vn(2026, 3, 2, 9, 0)}},
			vn(2026, 3, 3, 10, 0),
		},
		{
			"a pause outside office hours moves nothing", def, vn(2026, 3, 2, 8, 0), "1wd",
			[]Interval{{vn(2026, 3, 2, 17, 30), vn(2026, 3, 3, 7, 0)}, {vn(2026, 3, 2, 12, 0), vn(2026, 3, 2, 12, 0)}},
			vn(2026, 3, 3, 8, 0),
		},

		// Calendar days start the day after receipt and end at the close of office.
		{"15 calendar days", def, vn(2026, 3, 2, 10, 0), "15d", nil, vn(2026, 3, 17, 17, 0)},
		{"calendar days ending on a Sunday", def, vn(2026, 3, 2, 10, 0), "6d", nil, vn(2026, 3, 9, 17, 0)},
		{"calendar days ending on a holiday", def, vn(2026, 4, 23, 10, 0), "7d", nil, vn(2026, 5, 4, 17, 0)},
		{"calendar days received after the cutoff", def, vn(2026, 3, 2, 17, 30), "1d", nil, vn(2026, 3, 4, 17, 0)},
		{"calendar days over New Year", def, vn(2025, 12, 29, 9, 0), "3d", nil, vn(2026, 1, 5, 17, 0)},
		{
			"calendar days move by paused time, then skip a weekend", def, vn(2026, 3, 2, 10, 0), "10d",
			[]Interval{{vn(2026, 3, 3, 10, 0), vn(2026, 3, 5, 10, 0)}},
			vn(2026, 3, 16, 17, 0),
		},

		// Months end on the corresponding day, or the month's last day.
		{"2 months", def, vn(2026, 3, 11, 9, 0), "2m", nil, vn(2026, 5, 11, 17, 0)},
		{"1 month from 30 Jan ends 28 Feb, a Saturday", def, vn(2026, 1, 30, 10, 0), "1m", nil, vn(2026, 3, 2, 17, 0)},
		{"months ending in computed Tết 2027", def, vn(2026, 12, 8, 9, 0), "2m", nil, vn(2027, 2, 12, 17, 0)},
	}
	checkDeadlines(t, tests)
}

// deadlineCase is a due expected from a schedule, a receipt, a limit and pauses.
type deadlineCase struct {
	name     string
	s        *Schedule
	received time.Time
	limit    string
	pauses   []Interval
	want     time.Time
}

func checkDeadlines(t *testing.T, tests []deadlineCase) {
	t.Helper()
	for _, tt := range tests {
		limit, err := ParseLimit(tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tt.s.Deadline(tt.received, limit, tt.pauses)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != Location() {
			t.Errorf("%s: Deadline(%s, %s) = %s, want %s", tt.name, tt.received.Format(time.DateTime), tt.limit, got, tt.want)
		}
	}
}

func TestDeadlineErrors(t *testing.T) {
	t.Parallel()
	s := newTestSchedule(t, DefaultOfficeHours())
	recv := vn(2026, 3, 2, 8, 0)
	tests := []struct {
		name     string
		received time.Time
		limit    Limit
		pauses   []Interval
		want     string
	}{
		{"zero limit", recv, Limit{}, nil, `deadline: limit 0: unknown unit ""`},
		{"zero receipt", time.Time{}, Limit{1, WorkingDays}, nil, "deadline: effective start: zero receipt time"},
		{"open pause", recv, Limit{1, WorkingDays}, []Interval{{Start: recv}}, "deadline: pause 0: start and end are required"},
		{"pause ending before it starts", recv, Limit{1, WorkingDays}, []Interval{{recv.Add(time.Hour), recv}}, "deadline: pause 0: ends at 2026-03-02T08:00:00+07:00, before it starts at 2026-03-02T09:00:00+07:00"},
		{"past 2100", vn(2100, 12, 20, 8, 0), Limit{30, CalendarDays}, nil, "year out of range"},
		{"received in 2101", vn(2101, 1, 3, 8, 0), Limit{1, WorkingDays}, nil, "year out of range"},
	}
	for _, tt := range tests {
		_, err := s.Deadline(tt.received, tt.limit, tt.pauses)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	_, err := s.Deadline(vn(2101, 1, 3, 8, 0), Limit{1, WorkingDays}, nil)
	if !errors.Is(err, ErrYearOutOfRange) {
		t.Errorf("received in 2101: error %v does not wrap ErrYearOutOfRange", err)
	}
}

func TestWorkingTimeBetween(t *testing.T) {
	t.Parallel()
	s := newTestSchedule(t, DefaultOfficeHours())
	tests := []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		{"a working week", vn(2026, 3, 2, 8, 0), vn(2026, 3, 9, 8, 0), hm(37, 30)},
		{"backwards is negative", vn(2026, 3, 9, 8, 0), vn(2026, 3, 2, 8, 0), -hm(37, 30)},
		{"over Tết 2026", vn(2026, 2, 13, 16, 0), vn(2026, 2, 23, 8, 0), hm(1, 30)},
		{"lunch only", vn(2026, 3, 2, 11, 45), vn(2026, 3, 2, 13, 15), 0},
		{"the same instant", vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 9, 0), 0},
		{"a swap Saturday counts", vn(2026, 1, 10, 0, 0), vn(2026, 1, 11, 0, 0), hm(7, 30)},
		{"across a session end", vn(2026, 3, 2, 11, 0), vn(2026, 3, 2, 14, 0), hm(1, 0)},
	}
	for _, tt := range tests {
		got, err := s.WorkingTimeBetween(tt.a, tt.b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: WorkingTimeBetween = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWorkingTimeBetweenDayByDay: counting the whole days between a's and
// b's in full gives what working out every session of every day gives, over
// intervals of up to 200 days across month, year, holiday and swap
// boundaries.
func TestWorkingTimeBetweenDayByDay(t *testing.T) {
	t.Parallel()
	s := newTestSchedule(t, DefaultOfficeHours())
	// The reference: the interval cut at every midnight, each piece (within
	// one day, so never a whole day between its ends) counted by sessions.
	byDay := func(a, b time.Time) time.Duration {
		var total time.Duration
		for lo := a; lo.Before(b); {
			d := dateOf(lo)
			hi := time.Date(d.year, d.month, d.day+1, 0, 0, 0, 0, Location())
			if hi.After(b) {
				hi = b
			}
			w, err := s.WorkingTimeBetween(lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			total, lo = total+w, hi
		}
		return total
	}
	rng := rand.New(rand.NewPCG(7, 11))
	start := vn(2025, 12, 1, 0, 0)
	for range 2000 {
		a := start.Add(time.Duration(rng.Int64N(int64(500 * 24 * time.Hour))))
		b := a.Add(time.Duration(rng.Int64N(int64(200 * 24 * time.Hour))))
		got, err := s.WorkingTimeBetween(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := byDay(a, b); got != want {
			t.Fatalf("WorkingTimeBetween(%s, %s) = %v, day by day %v", a, b, got, want)
		}
	}
}

func TestNewSchedule(t *testing.T) {
	t.Parallel()
	if _, err := NewSchedule(nil, DefaultOfficeHours()); err == nil {
		t.Error("NewSchedule(nil calendar): no error")
	}
	if _, err := NewSchedule(loadCalendar(t), OfficeHours{}); err == nil || err.Error() != "schedule: office hours: no sessions" {
		t.Errorf("NewSchedule(no sessions) error = %v", err)
	}
	hours := DefaultOfficeHours()
	s, err := NewSchedule(loadCalendar(t), hours)
	if err != nil {
		t.Fatal(err)
	}
	hours.Sessions[0].Start = 0 // the schedule keeps its own copy
	if s.Hours().Sessions[0].Start != hm(7, 30) {
		t.Error("NewSchedule kept the caller's sessions slice")
	}
}

func TestInOfficeHours(t *testing.T) {
	t.Parallel()
	s := newTestSchedule(t, DefaultOfficeHours())
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{vn(2026, 3, 3, 7, 29), false},
		{vn(2026, 3, 3, 7, 30), true},
		{vn(2026, 3, 3, 11, 30), false}, // lunch break
		{vn(2026, 3, 3, 16, 59), true},
		{vn(2026, 3, 3, 17, 0), false},
		{vn(2026, 3, 7, 9, 0), false},  // Saturday
		{vn(2026, 2, 17, 9, 0), false}, // Tết 2026
		{vn(2026, 3, 3, 2, 0).UTC(), false},
	} {
		got, err := s.InOfficeHours(c.at)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("InOfficeHours(%s) = %v, want %v", c.at, got, c.want)
		}
	}
}
