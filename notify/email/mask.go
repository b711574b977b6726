package email

import (
	"cmp"
	"regexp"
	"strings"

	"github.com/dvcwatch/dvcwatch"
)

// Masker hides an applicant's personal data in the portals' free text (a
// step's content, an apology's reason may name them), for whatever shows a
// dossier outside the one-stop system: their name, email, phone (as written,
// and as digits alone) and ID number, wherever one appears, ignoring case,
// becomes the masked name or phone (MaskName, MaskPhone), or stars.
type Masker struct {
	res  []*regexp.Regexp
	with []string
}

// NewMasker returns the masker of a's personal data.
func NewMasker(a dvcwatch.Applicant) Masker {
	var m Masker
	add := func(raw, masked string) {
		// Fewer than three letters would mask ordinary words.
		if raw = strings.TrimSpace(raw); len([]rune(raw)) >= 3 {
			m.res = append(m.res, regexp.MustCompile(`(?i)`+regexp.QuoteMeta(raw)))
			m.with = append(m.with, masked)
		}
	}
	name, phone := cmp.Or(MaskName(a.Name), "***"), cmp.Or(MaskPhone(a.Phone), "***")
	add(a.Name, name)
	add(a.Email, "***")
	add(a.IDNumber, "***")
	add(a.Phone, phone)
	var digits strings.Builder
	for _, r := range a.Phone {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	if digits.Len() >= 6 {
		add(digits.String(), phone)
	}
	return m
}

// Text returns s with the applicant's personal data masked.
func (m Masker) Text(s string) string {
	for i, re := range m.res {
		s = re.ReplaceAllLiteralString(s, m.with[i])
	}
	return s
}
