package dvcwatch

import (
	"reflect"
	"testing"
)

func TestStatusClock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status Status
		clock  Clock
		open   bool
	}{
		{StatusSubmitted, ClockNotStarted, true},
		{StatusReceived, ClockRunning, true},
		{StatusRefused, ClockTerminal, false},
		{StatusInProgress, ClockRunning, true},
		{StatusAwaitingSupplement, ClockPaused, true},
		{StatusAwaitingPayment, ClockPaused, true},
		{StatusWithdrawn, ClockTerminal, false},
		{StatusStopped, ClockTerminal, false},
		{StatusProcessed, ClockStopped, false},
		{StatusReturned, ClockTerminal, false},
	}
	for _, c := range cases {
		if !c.status.Valid() || c.status.Clock() != c.clock || c.status.Open() != c.open {
			t.Errorf("status %d: valid %v, clock %q, open %v; want valid, %q, %v",
				c.status, c.status.Valid(), c.status.Clock(), c.status.Open(), c.clock, c.open)
		}
	}
	for _, s := range []Status{0, 11, -1} {
		if s.Valid() || s.Clock() != "" || s.Open() {
			t.Errorf("status %d must be invalid with no clock", s)
		}
	}
	if got := StatusAwaitingSupplement.Vietnamese(); got != "Yêu cầu bổ sung giấy tờ" {
		t.Errorf("Vietnamese() = %q", got)
	}
}

// Decomposed: "Nguyễn" with e, U+0302 (circumflex) and U+0303 (tilde).
const (
	nfdName = "Nguye\u0302\u0303n Va\u0306n A"
	nfcName = "Nguyễn Văn A"
)

// stringFields returns a pointer to every string in v: fields, nested
// structs' and slice elements' included.
func stringFields(v reflect.Value) []*string {
	switch v.Kind() {
	case reflect.String:
		return []*string{v.Addr().Interface().(*string)}
	case reflect.Struct:
		var out []*string
		for i := range v.NumField() {
			out = append(out, stringFields(v.Field(i))...)
		}
		return out
	case reflect.Slice:
		var out []*string
		for i := range v.Len() {
			out = append(out, stringFields(v.Index(i))...)
		}
		return out
	}
	return nil
}

func TestDossierNFC(t *testing.T) {
	t.Parallel()
	d := Dossier{Steps: make([]Step, 2), Supplements: make([]Supplement, 1), Apologies: make([]Apology, 2)}
	fields := stringFields(reflect.ValueOf(&d).Elem())
	if len(fields) < 25 {
		t.Fatalf("found %d string fields; the walk is broken", len(fields))
	}
	for _, s := range fields {
		*s = nfdName
	}
	steps, apologies := d.Steps, d.Apologies
	got := d.NFC()
	for i, s := range stringFields(reflect.ValueOf(&got).Elem()) {
		if *s != nfcName {
			t.Errorf("string field %d = %q, want %q: NFC() misses it", i, *s, nfcName)
		}
	}
	if steps[0].Official != nfdName || apologies[1].Reason != nfdName {
		t.Error("NFC() changed the caller's child slices")
	}
	// Text already in NFC is left alone, slices included.
	again := got.NFC()
	if !reflect.DeepEqual(again, got) || &again.Steps[0] != &got.Steps[0] || &again.Apologies[0] != &got.Apologies[0] {
		t.Error("NFC() of NFC text copied or changed it")
	}
	if z := (Dossier{}).NFC(); !reflect.DeepEqual(z, Dossier{}) {
		t.Errorf("NFC() of the zero dossier = %+v", z)
	}
}
