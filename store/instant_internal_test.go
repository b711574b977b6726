package store

import (
	"testing"
	"time"
)

func TestInstantParsesTheSQLiteLayoutAsTimeParseDoes(t *testing.T) {
	for _, s := range []string{
		"2026-02-14T01:30:00.000000Z",
		"2026-12-31T23:59:59.999999Z",
		"2024-02-29T00:00:00.000001Z",
		"0001-01-01T00:00:00.000000Z",
	} {
		want, err := time.Parse(sqliteTimeLayout, s)
		if err != nil {
			t.Fatal(err)
		}
		var got instant
		if err := got.Scan(s); err != nil {
			t.Fatalf("Scan(%q): %v", s, err)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Scan(%q) = %v, want %v in UTC", s, got.Time, want)
		}
	}
	for _, s := range []string{
		"2026-04-31T00:00:00.000000Z", // no 31 April
		"2026-13-01T00:00:00.000000Z",
		"2026-01-01 00:00:00.000000Z",
		"2026-01-01T00:00:00.00000aZ",
		"2026-01-01T00:00:00Z",
		"",
	} {
		var got instant
		if err := got.Scan(s); err == nil {
			t.Errorf("Scan(%q) = %v, want an error", s, got.Time)
		}
	}
}
