package sla

import (
	"testing"
	"time"
)

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

func TestParseOfficeHours(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sessions []string
		cutoff   string
		want     OfficeHours
		err      string
	}{
		{
			sessions: []string{"07:30-11:30", "13:30-17:00"}, cutoff: "17:00",
			want: DefaultOfficeHours(),
		},
		{
			sessions: []string{"8:00-12:00", " 13:00 - 16:30 "}, cutoff: "16:00",
			want: OfficeHours{Sessions: []Session{{hm(8, 0), hm(12, 0)}, {hm(13, 0), hm(16, 30)}}, Cutoff: hm(16, 0)},
		},
		{
			sessions: []string{"07:30-11:30", "13:30-17:00"}, cutoff: "",
			want: DefaultOfficeHours(), // an empty cutoff is the end of the last session
		},
		{sessions: []string{"07:30"}, cutoff: "17:00", err: `session "07:30": want HH:MM-HH:MM, e.g. 07:30-11:30`},
		{sessions: []string{"07:30-25:00"}, cutoff: "17:00", err: `session "07:30-25:00": end: "25:00" is not a time of day (want HH:MM, 00:00–24:00)`},
		{sessions: []string{"7h30-11:30"}, cutoff: "17:00", err: `session "7h30-11:30": start: "7h30" is not a time of day (want HH:MM, 00:00–24:00)`},
		{sessions: []string{"11:30-07:30"}, cutoff: "17:00", err: `session "11:30-07:30": ends before it starts`},
		{sessions: nil, cutoff: "17:00", err: `office hours: no sessions`},
		{
			sessions: []string{"13:30-17:00", "07:30-11:30"}, cutoff: "17:00",
			err: `office hours: session 07:30-11:30 starts before session 13:30-17:00 ends (want sessions in order, not overlapping)`,
		},
		{
			sessions: []string{"07:30-12:00", "11:30-17:00"}, cutoff: "17:00",
			err: `office hours: session 11:30-17:00 starts before session 07:30-12:00 ends (want sessions in order, not overlapping)`,
		},
		{
			sessions: []string{"07:30-11:30", "13:30-17:00"}, cutoff: "17:30",
			err: `office hours: cutoff 17:30: want a time after the first session starts (07:30) and no later than the last one ends (17:00)`,
		},
		{
			sessions: []string{"07:30-11:30", "13:30-17:00"}, cutoff: "07:00",
			err: `office hours: cutoff 07:00: want a time after the first session starts (07:30) and no later than the last one ends (17:00)`,
		},
		{sessions: []string{"07:30-11:30"}, cutoff: "4pm", err: `cutoff "4pm": "4pm" is not a time of day (want HH:MM, 00:00–24:00)`},
	}
	for _, tt := range tests {
		got, err := ParseOfficeHours(tt.sessions, tt.cutoff)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseOfficeHours(%q, %q) error = %v, want %q", tt.sessions, tt.cutoff, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseOfficeHours(%q, %q): %v", tt.sessions, tt.cutoff, err)
			continue
		}
		if len(got.Sessions) != len(tt.want.Sessions) || got.Cutoff != tt.want.Cutoff {
			t.Errorf("ParseOfficeHours(%q, %q) = %+v, want %+v", tt.sessions, tt.cutoff, got, tt.want)
			continue
		}
		for i := range got.Sessions {
			if got.Sessions[i] != tt.want.Sessions[i] {
				t.Errorf("ParseOfficeHours(%q, %q) = %+v, want %+v", tt.sessions, tt.cutoff, got, tt.want)
			}
		}
	}
}

func TestOfficeHoursDayLength(t *testing.T) {
	t.Parallel()
	if got := DefaultOfficeHours().DayLength(); got != hm(7, 30) {
		t.Errorf("DayLength = %v, want 7h30m", got)
	}
	if got := (Session{hm(7, 30), hm(11, 30)}).String(); got != "07:30-11:30" {
		t.Errorf("Session.String = %q", got)
	}
}
