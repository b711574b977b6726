package dvcwatch

import (
	"strings"
	"testing"
	"time"
)

// silenceBreach is the breach every matcher case is judged against.
var silenceBreach = StoredBreach{
	Breach: Breach{Kind: BreachPortalMismatch, Key: DossierKey{Source: "onestop", Code: "000.05.31.H99-260301-0001"},
		Official: "nguyen.van.a", Department: "VHXH"},
	Agency: "000.05.31.H99", Procedure: "1.001193",
}

func TestSilenceMatches(t *testing.T) {
	t.Parallel()
	m := NewMatcher
	for _, c := range []struct {
		name     string
		matchers []Matcher
		want     bool
	}{
		{"kind", []Matcher{m(LabelKind, "portal_mismatch")}, true},
		{"another kind", []Matcher{m(LabelKind, "overdue")}, false},
		{"agency", []Matcher{m(LabelAgency, "000.05.31.H99")}, true},
		{"another agency", []Matcher{m(LabelAgency, "000.05.31.H98")}, false},
		{"department", []Matcher{m(LabelDepartment, "VHXH")}, true},
		{"another department", []Matcher{m(LabelDepartment, "KT")}, false},
		{"official", []Matcher{m(LabelOfficial, "nguyen.van.a")}, true},
		{"another official", []Matcher{m(LabelOfficial, "tran.thi.b")}, false},
		{"procedure", []Matcher{m(LabelProcedure, "1.001193")}, true},
		{"another procedure", []Matcher{m(LabelProcedure, "1.001194")}, false},
		{"dossier", []Matcher{m(LabelDossier, "000.05.31.H99-260301-0001")}, true},
		{"another dossier", []Matcher{m(LabelDossier, "000.05.31.H99-260301-0002")}, false},
		// Codes are read from emails and typed by hand: case and the spaces
		// around them do not matter; a part of a code is not the code.
		{"dossier code in lower case", []Matcher{m(LabelDossier, "  000.05.31.h99-260301-0001 ")}, true},
		{"agency code in lower case", []Matcher{m(LabelAgency, "000.05.31.h99")}, true},
		{"a prefix of the dossier code", []Matcher{m(LabelDossier, "000.05.31.H99")}, false},
		{"all match", []Matcher{m(LabelKind, "portal_mismatch"), m(LabelAgency, "000.05.31.H99"), m(LabelDossier, "000.05.31.H99-260301-0001")}, true},
		{"all but one match", []Matcher{m(LabelKind, "portal_mismatch"), m(LabelAgency, "000.05.31.H99"), m(LabelOfficial, "tran.thi.b")}, false},
		{"no matcher matches nothing", nil, false},
		{"an unknown label matches nothing", []Matcher{{Label: "source", Value: "onestop"}}, false},
	} {
		if got := (Silence{Matchers: c.matchers}).Matches(silenceBreach); got != c.want {
			t.Errorf("%s: Matches = %t, want %t", c.name, got, c.want)
		}
	}
}

// TestNewMatcherNFC: a department typed in decomposed Unicode (as some
// keyboards and PDFs give it) matches the same name stored in NFC.
func TestNewMatcherNFC(t *testing.T) {
	t.Parallel()
	b := silenceBreach
	b.Department = "Phòng Tư pháp" // NFC, as stored
	decomposed := "Pho\u0300ng Tư pha\u0301p"
	if !(Silence{Matchers: []Matcher{NewMatcher(LabelDepartment, decomposed)}}).Matches(b) {
		t.Errorf("a decomposed department name does not match its NFC form")
	}
}

func TestSilenceActive(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	s := Silence{StartsAt: start, EndsAt: start.Add(time.Hour)}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{start.Add(-time.Nanosecond), false},
		{start, true},
		{start.Add(59 * time.Minute), true},
		{start.Add(time.Hour), false}, // expired at now: mutes no more at now
		{start.Add(2 * time.Hour), false},
	} {
		if got := s.Active(c.at); got != c.want {
			t.Errorf("Active(%s) = %t, want %t", c.at.Format(time.RFC3339Nano), got, c.want)
		}
	}
}

func TestSilencedBy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	kind := []Matcher{NewMatcher(LabelKind, "portal_mismatch")}
	ended := Silence{ID: 1, Matchers: kind, StartsAt: now.Add(-2 * time.Hour), EndsAt: now}
	other := Silence{ID: 2, Matchers: []Matcher{NewMatcher(LabelKind, "overdue")}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}
	active := Silence{ID: 3, Matchers: kind, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}
	if s, ok := SilencedBy([]Silence{ended, other, active}, silenceBreach, now); !ok || s.ID != 3 {
		t.Errorf("SilencedBy = %d, %t; want silence 3 (1 ended, 2 matches another kind)", s.ID, ok)
	}
	if s, ok := SilencedBy([]Silence{ended, other}, silenceBreach, now); ok {
		t.Errorf("SilencedBy = %d; want none", s.ID)
	}
	if active.Value(LabelKind) != "portal_mismatch" || active.Value(LabelAgency) != "" {
		t.Errorf("Value: kind %q, agency %q", active.Value(LabelKind), active.Value(LabelAgency))
	}
}

func TestSilenceValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	valid := Silence{Matchers: []Matcher{NewMatcher(LabelKind, "portal_mismatch")}, StartsAt: now, EndsAt: now.Add(72 * time.Hour),
		Reason: "Cổng DVCQG bảo trì theo thông báo", CreatedBy: "vanphong"}
	if err := valid.Validate(now); err != nil {
		t.Fatalf("valid silence: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Silence)
		want string
	}{
		{"no matcher", func(s *Silence) { s.Matchers = nil },
			"matchers: at least one is required (kind, agency, department, official, procedure, dossier)"},
		{"unknown label", func(s *Silence) { s.Matchers = append(s.Matchers, Matcher{Label: "agncy", Value: "x"}) },
			"matchers.agncy: unknown label (want one of kind, agency, department, official, procedure, dossier)"},
		{"a label twice", func(s *Silence) { s.Matchers = append(s.Matchers, NewMatcher(LabelKind, "overdue")) },
			"matchers.kind: given more than once"},
		{"empty value", func(s *Silence) { s.Matchers = append(s.Matchers, NewMatcher(LabelAgency, "  ")) },
			"matchers.agency: empty value"},
		{"unknown kind", func(s *Silence) { s.Matchers = []Matcher{NewMatcher(LabelKind, "late")} },
			`matchers.kind: unknown breach kind "late" (want one of due_soon, overdue, finished_late, no_apology, late_apology, ` +
				`new_date_missed, rescheduled_twice, supplemented_twice, late_supplement_request, step_overdue, due_beyond_limit, ` +
				`refused_late, not_received, not_synced, portal_mismatch)`},
		{"no end", func(s *Silence) { s.EndsAt = time.Time{} }, "ends_at: required"},
		{"end in the past", func(s *Silence) { s.EndsAt = now.Add(-time.Minute) }, "ends_at 2026-03-02T07:59:00+07:00: not in the future"},
		{"end now", func(s *Silence) { s.EndsAt = now }, "ends_at 2026-03-02T08:00:00+07:00: not in the future"},
		{"end before the start", func(s *Silence) { s.StartsAt = now.Add(2 * time.Hour); s.EndsAt = now.Add(time.Hour) },
			"ends_at 2026-03-02T09:00:00+07:00: not after starts_at 2026-03-02T10:00:00+07:00"},
		{"no reason", func(s *Silence) { s.Reason = " " }, "reason: required"},
		{"no author", func(s *Silence) { s.CreatedBy = "" }, "created_by: required"},
		{"everything at once", func(s *Silence) { s.Matchers, s.Reason = nil, "" },
			"matchers: at least one is required (kind, agency, department, official, procedure, dossier); reason: required"},
	} {
		s := valid
		s.Matchers = append([]Matcher(nil), valid.Matchers...)
		c.edit(&s)
		err := s.Validate(now)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error spans lines: %q", c.name, err)
		}
	}
}
