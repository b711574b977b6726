package connectors_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/connectors"
)

func TestNewBatch(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	// Each record is "code updated-minutes tag" or "skip code reason".
	records := []json.RawMessage{
		json.RawMessage(`"D 5 same-time"`), // same time as A: ordered by code
		json.RawMessage(`"B 5 old"`),
		json.RawMessage(`"skip X broken"`),
		json.RawMessage(`"A 5 only"`),
		json.RawMessage(`"B 9 new"`),
		json.RawMessage(`"C 1 first"`),
		json.RawMessage(`"B 7 stale"`), // older than the kept copy: dropped
		json.RawMessage(`"C 1 tie"`),   // same time: the later copy wins
		json.RawMessage(`"skip  no code"`),
	}
	var seen []string
	b := connectors.NewBatch(records, func(raw json.RawMessage) (dvcwatch.Dossier, string) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, s)
		f := strings.SplitN(s, " ", 3)
		if f[0] == "skip" {
			return dvcwatch.Dossier{Key: dvcwatch.DossierKey{Source: "src", Code: f[1]}}, f[2]
		}
		minutes, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatal(err)
		}
		return dvcwatch.Dossier{
			Key:             dvcwatch.DossierKey{Source: "src", Code: f[0]},
			ReceiptNo:       f[2],
			SourceUpdatedAt: t0.Add(time.Duration(minutes) * time.Minute),
		}, ""
	})

	if len(seen) != len(records) {
		t.Errorf("decode called %d times, want once per record (%d)", len(seen), len(records))
	}
	for i, s := range seen {
		if want := string(records[i]); `"`+s+`"` != want {
			t.Errorf("decode call %d got %q, want %s", i, s, want)
			break
		}
	}
	var got []string
	for _, d := range b.Dossiers {
		got = append(got, d.Key.Code+" "+d.ReceiptNo)
	}
	want := []string{"C tie", "A only", "D same-time", "B new"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dossiers = %q, want %q", got, want)
	}
	wantSkips := []connectors.Skip{{Code: "X", Reason: "broken"}, {Code: "", Reason: "no code"}}
	if !reflect.DeepEqual(b.Skipped, wantSkips) {
		t.Errorf("skipped = %+v, want %+v", b.Skipped, wantSkips)
	}
	if b.Next != (connectors.Cursor{}) {
		t.Errorf("Next = %+v, want it left zero", b.Next)
	}
}

func TestNewBatchEmpty(t *testing.T) {
	b := connectors.NewBatch(nil, func(json.RawMessage) (dvcwatch.Dossier, string) {
		t.Fatal("decode called without records")
		return dvcwatch.Dossier{}, ""
	})
	if b.Dossiers != nil || b.Skipped != nil {
		t.Errorf("empty batch = %+v, want nil slices", b)
	}
}

func TestProblems(t *testing.T) {
	var p connectors.Problems
	if r := p.Reason(); r != "" {
		t.Errorf("no problems: reason %q, want empty", r)
	}
	p.Add("code missing")
	p.Entry = " (steps 2)"
	p.Add("%s %s: not RFC 3339", "steps.due_at", connectors.Quote("soon"))
	p.Entry = ""
	p.Add("status %d: not a status 1–10", 11)
	want := `code missing; steps.due_at "soon": not RFC 3339 (steps 2); status 11: not a status 1–10`
	if r := p.Reason(); r != want {
		t.Errorf("reason %q, want %q", r, want)
	}
}

func TestDecodeReason(t *testing.T) {
	var v struct {
		Status int `json:"status"`
	}
	err := json.Unmarshal([]byte(`{"status":"x"}`), &v)
	if got, want := connectors.DecodeReason("item", err), "status: a JSON string where int was expected"; got != want {
		t.Errorf("type error: %q, want %q", got, want)
	}
	err = json.Unmarshal([]byte(`{"status":`), &v)
	if got, want := connectors.DecodeReason("record", err), "record: not valid JSON: "+err.Error(); got != want {
		t.Errorf("syntax error: %q, want %q", got, want)
	}
	// A type error with no field (the whole record is the wrong kind) says
	// the record is not valid.
	err = json.Unmarshal([]byte(`[1]`), &v)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "" {
		t.Fatalf("want a field-less type error, got %v", err)
	}
	if got, want := connectors.DecodeReason("item", err), "item: not valid JSON: "+err.Error(); got != want {
		t.Errorf("field-less type error: %q, want %q", got, want)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                      `""`,
		`2025-13-01 "soon"`:     `"2025-13-01 \"soon\""`,
		strings.Repeat("é", 40): `"` + strings.Repeat("é", 40) + `"`,
		strings.Repeat("é", 41): `"` + strings.Repeat("é", 40) + `…"`,
	} {
		if got := connectors.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCursorAfter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		a, b connectors.Cursor
		want bool
	}{
		{connectors.Cursor{UpdatedAt: t0.Add(time.Second)}, connectors.Cursor{UpdatedAt: t0, Key: "Z"}, true},
		{connectors.Cursor{UpdatedAt: t0, Key: "B"}, connectors.Cursor{UpdatedAt: t0, Key: "A"}, true},
		{connectors.Cursor{UpdatedAt: t0, Key: "A"}, connectors.Cursor{UpdatedAt: t0, Key: "A"}, false},
		{connectors.Cursor{UpdatedAt: t0, Key: "Z"}, connectors.Cursor{UpdatedAt: t0.Add(time.Second)}, false},
		// The same instant in another zone is the same position.
		{connectors.Cursor{UpdatedAt: t0.In(time.FixedZone("ICT", 7*3600)), Key: "A"}, connectors.Cursor{UpdatedAt: t0, Key: "A"}, false},
	}
	for _, c := range cases {
		if got := c.a.After(c.b); got != c.want {
			t.Errorf("%+v.After(%+v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
