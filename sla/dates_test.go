package sla

import (
	"testing"
	"time"
)

func TestWorkingDaysAfter(t *testing.T) {
	t.Parallel()
	s := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	tests := []struct {
		name string
		a, b time.Time
		want int
	}{
		{"same date, later hour: on time", vn(2026, 3, 2, 8, 0), vn(2026, 3, 2, 23, 0), 0},
		{"earlier date", vn(2026, 3, 3, 8, 0), vn(2026, 3, 2, 8, 0), 0},
		{"next working day", vn(2026, 3, 2, 17, 0), vn(2026, 3, 3, 7, 30), 1},
		{"over a weekend: Friday to Monday", vn(2026, 3, 6, 17, 0), vn(2026, 3, 9, 9, 0), 1},
		// 27/4 (Hùng Kings' compensatory Monday), 30/4 and 1/5 are not working days.
		{"across Hùng Kings and 30/4–1/5", vn(2026, 4, 23, 17, 0), vn(2026, 5, 5, 17, 0), 5},
		{"to a Sunday counts no day for it", vn(2026, 3, 6, 17, 0), vn(2026, 3, 8, 12, 0), 0},
	}
	for _, tt := range tests {
		got, err := s.WorkingDaysAfter(tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("%s: WorkingDaysAfter = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
}

// TestWorkingDayBefore: the last day on which an apology is still timely
// ("chậm nhất 01 ngày trước ngày hết hạn", Decree 118/2025/NĐ-CP art. 19(6)).
func TestWorkingDayBefore(t *testing.T) {
	t.Parallel()
	s := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	tests := []struct {
		due, want time.Time
	}{
		{vn(2026, 3, 3, 17, 0), vn(2026, 3, 2, 0, 0)},  // Tuesday → Monday
		{vn(2026, 3, 9, 17, 0), vn(2026, 3, 6, 0, 0)},  // Monday → Friday
		{vn(2026, 5, 4, 17, 0), vn(2026, 4, 29, 0, 0)}, // after 30/4–1/5 and the weekend
		{vn(2026, 1, 12, 9, 0), vn(2026, 1, 10, 0, 0)}, // Saturday 10 January 2026 was a working day
	}
	for _, tt := range tests {
		got, err := s.WorkingDayBefore(tt.due)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("WorkingDayBefore(%s) = %s, %v; want %s", tt.due, got, err, tt.want)
		}
	}
}

func TestPostpone(t *testing.T) {
	t.Parallel()
	dates := newCountingSchedule(t, DefaultOfficeHours(), CountDates)
	hours := newCountingSchedule(t, DefaultOfficeHours(), CountOfficeHours)
	due := vn(2026, 3, 5, 17, 0) // Thursday
	tests := []struct {
		name   string
		s      *Schedule
		pauses []Interval
		want   time.Time
	}{
		{"no pause", dates, nil, due},
		{"an hour of office time adds a whole working day", dates,
			[]Interval{{vn(2026, 3, 3, 8, 0), vn(2026, 3, 3, 9, 0)}}, vn(2026, 3, 6, 17, 0)},
		{"two office days, over the weekend", dates,
			[]Interval{{vn(2026, 3, 2, 7, 30), vn(2026, 3, 3, 17, 0)}}, vn(2026, 3, 9, 17, 0)},
		{"a pause over a weekend only adds nothing", dates,
			[]Interval{{vn(2026, 2, 28, 8, 0), vn(2026, 3, 1, 17, 0)}}, due},
		{"a pause that begins after the due adds nothing", dates,
			[]Interval{{vn(2026, 3, 6, 8, 0), vn(2026, 3, 10, 8, 0)}}, due},
		{"a second pause counts once the first moved the due past its start", dates,
			[]Interval{{vn(2026, 3, 2, 7, 30), vn(2026, 3, 2, 8, 0)}, {vn(2026, 3, 6, 8, 0), vn(2026, 3, 6, 9, 0)}},
			vn(2026, 3, 9, 17, 0)},
		{"office hours: the office time added to the instant", hours,
			[]Interval{{vn(2026, 3, 3, 8, 0), vn(2026, 3, 3, 9, 0)}}, vn(2026, 3, 6, 8, 30)},
	}
	for _, tt := range tests {
		got, err := tt.s.Postpone(due, tt.pauses)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: Postpone = %s, %v; want %s", tt.name, got, err, tt.want)
		}
		if got.Before(due) {
			t.Errorf("%s: postponed to %s, before the due %s", tt.name, got, due)
		}
	}
}
