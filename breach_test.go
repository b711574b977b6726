package dvcwatch

import "testing"

func TestBreachFingerprint(t *testing.T) {
	t.Parallel()
	k := DossierKey{Source: "dvcqg", Code: "H01.001"}
	fp := BreachFingerprint(BreachOverdue, k, 0)
	if len(fp) != 64 || fp != BreachFingerprint(BreachOverdue, k, 0) {
		t.Fatalf("fingerprint %q not stable", fp)
	}
	others := []string{
		BreachFingerprint(BreachNoApology, k, 0),
		BreachFingerprint(BreachOverdue, k, 1),
		BreachFingerprint(BreachOverdue, DossierKey{Source: "mcdt", Code: k.Code}, 0),
		BreachFingerprint(BreachOverdue, DossierKey{Source: k.Source, Code: "H01.002"}, 0),
		// Shifting characters between fields must not collide.
		BreachFingerprint(BreachOverdue, DossierKey{Source: "dvcqgH", Code: "01.001"}, 0),
	}
	seen := map[string]bool{fp: true}
	for i, o := range others {
		if seen[o] {
			t.Errorf("fingerprint %d collides", i)
		}
		seen[o] = true
	}
}

func TestBreachKindsAndSeverities(t *testing.T) {
	t.Parallel()
	kinds := BreachKinds()
	if len(kinds) != 15 {
		t.Fatalf("%d kinds", len(kinds))
	}
	for _, k := range kinds {
		if !k.Valid() {
			t.Errorf("%s not valid", k)
		}
	}
	if BreachKind("late").Valid() {
		t.Error("unknown kind valid")
	}
	for want, s := range []Severity{"", SeverityInfo, SeverityWarning, SeverityCritical} {
		if s.Rank() != want || s.Valid() != (want > 0) {
			t.Errorf("%q: rank %d valid %v", s, s.Rank(), s.Valid())
		}
	}
	if string(SeverityInfo) != "info" || string(SeverityWarning) != "warning" || string(SeverityCritical) != "critical" {
		t.Error("severity strings changed; configuration depends on them")
	}
}

func TestBreachKindLabels(t *testing.T) {
	t.Parallel()
	seen := map[string]BreachKind{}
	for _, k := range BreachKinds() {
		l := k.Vietnamese()
		if l == string(k) || l == "" {
			t.Errorf("%s has no Vietnamese label", k)
		}
		if o, dup := seen[l]; dup {
			t.Errorf("%s and %s share the label %q", k, o, l)
		}
		seen[l] = k
	}
	if got := BreachKind("other").Vietnamese(); got != "other" {
		t.Errorf("unknown kind label %q", got)
	}
}

// TestKindTexts: every kind tells an official what it is, what to do and why,
// and has a place in the urgency order.
func TestKindTexts(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for _, k := range BreachKinds() {
		if k.Vietnamese() == string(k) || k.Action() == "" || k.Basis() == "" {
			t.Errorf("%s: label %q, action %q, basis %q", k, k.Vietnamese(), k.Action(), k.Basis())
		}
		if u := k.Urgency(); u >= len(BreachKinds()) || seen[u] {
			t.Errorf("%s: urgency %d missing or shared", k, u)
		}
		seen[k.Urgency()] = true
	}
	if BreachOverdue.Urgency() >= BreachDueSoon.Urgency() || BreachDueSoon.Urgency() >= BreachFinishedLate.Urgency() {
		t.Error("overdue must come before due soon, and both before history")
	}
}

func TestSeverityLabels(t *testing.T) {
	t.Parallel()
	for s, want := range map[Severity]string{
		SeverityInfo: "Thông tin", SeverityWarning: "Cảnh báo", SeverityCritical: "Nghiêm trọng", "urgent": "urgent",
	} {
		if got := s.Vietnamese(); got != want {
			t.Errorf("%q.Vietnamese() = %q, want %q", s, got, want)
		}
	}
}
