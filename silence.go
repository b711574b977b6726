package dvcwatch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// SilenceLabel names what a silence's matcher compares a breach by.
type SilenceLabel string

// The labels a silence can match, as the API, the CLI and the store name them.
const (
	LabelKind       SilenceLabel = "kind"       // the breach kind, e.g. portal_mismatch
	LabelAgency     SilenceLabel = "agency"     // the handling agency's code (DonViXuLy)
	LabelDepartment SilenceLabel = "department" // the department the breach is attributed to
	LabelOfficial   SilenceLabel = "official"   // the official the breach is attributed to
	LabelProcedure  SilenceLabel = "procedure"  // the dossier's procedure code (MaTTHC)
	LabelDossier    SilenceLabel = "dossier"    // the dossier's code, on whichever portal
)

var silenceLabels = []SilenceLabel{LabelKind, LabelAgency, LabelDepartment, LabelOfficial, LabelProcedure, LabelDossier}

// SilenceLabels returns every label a matcher may name, in a fixed order.
func SilenceLabels() []SilenceLabel { return slices.Clone(silenceLabels) }

// Valid reports whether l is one of the labels.
func (l SilenceLabel) Valid() bool { return slices.Contains(silenceLabels, l) }

// Matcher selects the breaches whose Label equals Value. Values compare
// ignoring case (a dossier code read from an email or over the phone is
// often typed in lower case); NewMatcher puts them in the form the portals'
// text is stored in (trimmed, Unicode NFC).
type Matcher struct {
	Label SilenceLabel
	Value string
}

// NewMatcher returns a matcher of label with value trimmed and in NFC.
func NewMatcher(label SilenceLabel, value string) Matcher {
	return Matcher{Label: label, Value: norm.NFC.String(strings.TrimSpace(value))}
}

// Matches reports whether b's value of the matcher's label equals its value;
// an unknown label matches nothing.
func (m Matcher) Matches(b StoredBreach) bool {
	var got string
	switch m.Label {
	case LabelKind:
		got = string(b.Kind)
	case LabelAgency:
		got = b.Agency
	case LabelDepartment:
		got = b.Department
	case LabelOfficial:
		got = b.Official
	case LabelProcedure:
		got = b.Procedure
	case LabelDossier:
		got = b.Key.Code
	default:
		return false
	}
	return strings.EqualFold(got, m.Value)
}

// Silence mutes, from StartsAt until EndsAt, the breaches every one of its
// matchers matches, as Prometheus Alertmanager's silences do: the breaches
// are still recorded and listed (as silenced), but nobody is told of them.
// When it ends, a breach it muted is planned as usual by the next detection
// pass: its recipients were never told, so it is new to them. A silence is
// never deleted; expiring it early sets EndsAt to that moment.
type Silence struct {
	ID        int64
	Matchers  []Matcher // at least one; each label at most once
	StartsAt  time.Time
	EndsAt    time.Time
	Reason    string
	CreatedBy string // the admin token's name
	CreatedAt time.Time
	ExpiredBy string // who ended it before EndsAt, if anyone
}

// Active reports whether s mutes at now: from StartsAt included to EndsAt
// excluded, so that a silence expired at now (EndsAt = now) mutes no more.
func (s Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// Matches reports whether every matcher of s matches b; a silence without
// matchers matches nothing.
func (s Silence) Matches(b StoredBreach) bool {
	if len(s.Matchers) == 0 {
		return false
	}
	for _, m := range s.Matchers {
		if !m.Matches(b) {
			return false
		}
	}
	return true
}

// Value returns the value s matches label with, or "" when it does not
// match by that label.
func (s Silence) Value(label SilenceLabel) string {
	for _, m := range s.Matchers {
		if m.Label == label {
			return m.Value
		}
	}
	return ""
}

// SilencedBy returns the first silence of silences active at now that
// matches b.
func SilencedBy(silences []Silence, b StoredBreach, now time.Time) (Silence, bool) {
	for _, s := range silences {
		if s.Active(now) && s.Matches(b) {
			return s, true
		}
	}
	return Silence{}, false
}

// Validate checks a silence about to be created at now, and names every
// field that is wrong: at least one matcher, each a known label given once
// with a value (a kind among the known ones), an end after now and after its
// start, a reason and an author.
func (s Silence) Validate(now time.Time) error {
	var errs []error
	labels := make([]string, len(silenceLabels))
	for i, l := range silenceLabels {
		labels[i] = string(l)
	}
	if len(s.Matchers) == 0 {
		errs = append(errs, fmt.Errorf("matchers: at least one is required (%s)", strings.Join(labels, ", ")))
	}
	seen := map[SilenceLabel]bool{}
	for _, m := range s.Matchers {
		field := "matchers." + string(m.Label)
		switch {
		case !m.Label.Valid():
			errs = append(errs, fmt.Errorf("%s: unknown label (want one of %s)", field, strings.Join(labels, ", ")))
		case seen[m.Label]:
			errs = append(errs, fmt.Errorf("%s: given more than once", field))
		case strings.TrimSpace(m.Value) == "":
			errs = append(errs, fmt.Errorf("%s: empty value", field))
		case m.Label == LabelKind && !BreachKind(m.Value).Valid():
			kinds := make([]string, len(breachKinds))
			for i, k := range breachKinds {
				kinds[i] = string(k)
			}
			errs = append(errs, fmt.Errorf("%s: unknown breach kind %q (want one of %s)", field, m.Value, strings.Join(kinds, ", ")))
		}
		seen[m.Label] = true
	}
	switch {
	case s.EndsAt.IsZero():
		errs = append(errs, errors.New("ends_at: required"))
	case !s.EndsAt.After(now):
		errs = append(errs, fmt.Errorf("ends_at %s: not in the future", s.EndsAt.Format(time.RFC3339)))
	case !s.EndsAt.After(s.StartsAt):
		errs = append(errs, fmt.Errorf("ends_at %s: not after starts_at %s", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339)))
	}
	if strings.TrimSpace(s.Reason) == "" {
		errs = append(errs, errors.New("reason: required"))
	}
	if strings.TrimSpace(s.CreatedBy) == "" {
		errs = append(errs, errors.New("created_by: required"))
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
