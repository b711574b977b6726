package sla

import "testing"

func TestParseLimit(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want Limit
	}{
		{"5wd", Limit{5, WorkingDays}},
		{"15d", Limit{15, CalendarDays}},
		{"8h", Limit{8, WorkingHours}},
		{"1m", Limit{1, Months}},
		{"10000d", Limit{10000, CalendarDays}},
	}
	for _, tt := range valid {
		got, err := ParseLimit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("ParseLimit(%q).String() = %q", tt.in, got.String())
		}
	}

	const forms = "want a positive whole number and a unit: wd (working days), d (calendar days), h (working hours) or m (months), e.g. 5wd, 15d, 8h, 1m"
	invalid := []struct{ in, want string }{
		{"", `limit "": ` + forms},
		{"5", `limit "5": ` + forms},
		{"wd", `limit "wd": ` + forms},
		{"-1d", `limit "-1d": ` + forms},
		{"0wd", `limit "0wd": amount must be 1–10000; ` + forms},
		{"5x", `limit "5x": unknown unit "x"; ` + forms},
		{"5 wd", `limit "5 wd": unknown unit " wd"; ` + forms},
		{"5WD", `limit "5WD": unknown unit "WD"; ` + forms},
		{"10001d", `limit "10001d": amount must be at most 10000; ` + forms},
		{"99999999999999999999h", `limit "99999999999999999999h": amount must be at most 10000; ` + forms},
	}
	for _, tt := range invalid {
		_, err := ParseLimit(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseLimit(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLimitText(t *testing.T) {
	t.Parallel()
	var l Limit
	if err := l.UnmarshalText([]byte("3wd")); err != nil || l != (Limit{3, WorkingDays}) {
		t.Fatalf("UnmarshalText(3wd) = %v, %v", l, err)
	}
	b, err := l.MarshalText()
	if err != nil || string(b) != "3wd" {
		t.Errorf("MarshalText = %q, %v", b, err)
	}
	if err := l.UnmarshalText([]byte("3")); err == nil {
		t.Error("UnmarshalText(3): no error")
	}
}
