package sla

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Session is one working session of the office day, as offsets from midnight.
type Session struct {
	Start, End time.Duration
}

// String formats the session as HH:MM-HH:MM.
func (s Session) String() string { return formatClock(s.Start) + "-" + formatClock(s.End) }

// OfficeHours are an agency's working sessions and its reception cutoff: a dossier
// received at or after the cutoff counts from the next working day's opening.
type OfficeHours struct {
	Sessions []Session     // ordered, non-overlapping
	Cutoff   time.Duration // offset from midnight, after the first session starts and no later than the last one ends
}

// DefaultOfficeHours returns the common public-sector day: 07:30–11:30 and
// 13:30–17:00, with dossiers received up to 17:00 counting from that day.
func DefaultOfficeHours() OfficeHours {
	return OfficeHours{
		Sessions: []Session{
			{7*time.Hour + 30*time.Minute, 11*time.Hour + 30*time.Minute},
			{13*time.Hour + 30*time.Minute, 17 * time.Hour},
		},
		Cutoff: 17 * time.Hour,
	}
}

// ParseOfficeHours parses sessions written "HH:MM-HH:MM" and a cutoff written "HH:MM"
// and validates them; an empty cutoff means the end of the last session.
func ParseOfficeHours(sessions []string, cutoff string) (OfficeHours, error) {
	var h OfficeHours
	for _, s := range sessions {
		sess, err := ParseSession(s)
		if err != nil {
			return OfficeHours{}, err
		}
		h.Sessions = append(h.Sessions, sess)
	}
	if cutoff == "" {
		if len(h.Sessions) > 0 {
			h.Cutoff = h.Sessions[len(h.Sessions)-1].End
		}
	} else {
		c, err := ParseClock(cutoff)
		if err != nil {
			return OfficeHours{}, fmt.Errorf("cutoff %q: %w", cutoff, err)
		}
		h.Cutoff = c
	}
	return h, h.Validate()
}

// ParseSession parses a session written "HH:MM-HH:MM", e.g. "07:30-11:30".
func ParseSession(s string) (Session, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Session{}, fmt.Errorf("session %q: want HH:MM-HH:MM, e.g. 07:30-11:30", s)
	}
	start, err := ParseClock(strings.TrimSpace(a))
	if err != nil {
		return Session{}, fmt.Errorf("session %q: start: %w", s, err)
	}
	end, err := ParseClock(strings.TrimSpace(b))
	if err != nil {
		return Session{}, fmt.Errorf("session %q: end: %w", s, err)
	}
	if end <= start {
		return Session{}, fmt.Errorf("session %q: ends before it starts", s)
	}
	return Session{start, end}, nil
}

// ParseClock parses a time of day written HH:MM (00:00–24:00) into the time since midnight.
func ParseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, errH := strconv.Atoi(hh)
	m, errM := strconv.Atoi(mm)
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || errH != nil || errM != nil ||
		h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day (want HH:MM, 00:00–24:00)", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func formatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// Validate checks that there is a session, that sessions are ordered, do not overlap
// and stay within the day, and that the cutoff lies within the office day.
func (h OfficeHours) Validate() error {
	if len(h.Sessions) == 0 {
		return errors.New("office hours: no sessions")
	}
	for i, s := range h.Sessions {
		if s.Start < 0 || s.End > 24*time.Hour || s.End <= s.Start {
			return fmt.Errorf("office hours: session %s: want a start before the end, within 00:00–24:00", s)
		}
		if i > 0 && s.Start < h.Sessions[i-1].End {
			return fmt.Errorf("office hours: session %s starts before session %s ends (want sessions in order, not overlapping)", s, h.Sessions[i-1])
		}
	}
	first, last := h.Sessions[0].Start, h.Sessions[len(h.Sessions)-1].End
	if h.Cutoff <= first || h.Cutoff > last {
		return fmt.Errorf("office hours: cutoff %s: want a time after the first session starts (%s) and no later than the last one ends (%s)",
			formatClock(h.Cutoff), formatClock(first), formatClock(last))
	}
	return nil
}

// DayLength returns the office time in one working day: the sum of the sessions.
func (h OfficeHours) DayLength() time.Duration {
	var total time.Duration
	for _, s := range h.Sessions {
		total += s.End - s.Start
	}
	return total
}

// closing returns the end of the last session.
func (h OfficeHours) closing() time.Duration { return h.Sessions[len(h.Sessions)-1].End }
