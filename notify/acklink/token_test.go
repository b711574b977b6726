package acklink_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
)

var (
	testKey  = []byte("ack-key-for-tests-0123456789abcdef")
	otherKey = []byte("another-key-for-tests-0123456789ab")
	mailedAt = time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
)

func testClaim() acklink.Claim {
	return acklink.Claim{
		Recipient: "nguyen.van.a",
		Breaches: []dvcwatch.BreachRef{
			{ID: 41, Severity: dvcwatch.SeverityWarning},
			{ID: 42, Severity: dvcwatch.SeverityCritical},
		},
		Expires: mailedAt.Add(7 * 24 * time.Hour),
	}
}

func sign(t *testing.T, key []byte, c acklink.Claim) string {
	t.Helper()
	tok, err := acklink.Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	c := testClaim()
	tok := sign(t, testKey, c)
	if !urlSafe.MatchString(tok) {
		t.Errorf("token %q is not three URL-safe parts", tok)
	}
	for _, now := range []time.Time{mailedAt, c.Expires.Add(-time.Second)} {
		got, err := acklink.Verify(testKey, tok, now)
		if err != nil {
			t.Fatalf("Verify at %s: %v", now, err)
		}
		if !reflect.DeepEqual(got.Breaches, c.Breaches) || got.Recipient != c.Recipient || !got.Expires.Equal(c.Expires) {
			t.Errorf("Verify = %+v, want %+v", got, c)
		}
	}
}

func TestVerifyExpired(t *testing.T) {
	t.Parallel()
	c := testClaim()
	tok := sign(t, testKey, c)
	for _, now := range []time.Time{c.Expires, c.Expires.Add(time.Hour), c.Expires.AddDate(1, 0, 0)} {
		_, err := acklink.Verify(testKey, tok, now)
		if !errors.Is(err, acklink.ErrExpired) || errors.Is(err, acklink.ErrInvalid) {
			t.Errorf("Verify at %s = %v, want ErrExpired alone", now, err)
		}
	}
}

// TestVerifyTampered changes every character of every part, one at a time:
// no change is accepted, and none passes for merely expired, even after the
// expiry (the signature is checked first).
func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	c := testClaim()
	tok := sign(t, testKey, c)
	parts := strings.Split(tok, ".")
	for p := range parts {
		for i := range len(parts[p]) {
			changed := append([]string(nil), parts...)
			b := []byte(changed[p])
			// Another base64url character: the next in the alphabet.
			b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
			changed[p] = string(b)
			bad := strings.Join(changed, ".")
			for _, now := range []time.Time{mailedAt, c.Expires.Add(time.Hour)} {
				if _, err := acklink.Verify(testKey, bad, now); !errors.Is(err, acklink.ErrInvalid) {
					t.Fatalf("part %d, character %d changed, at %s: Verify = %v, want ErrInvalid", p, i, now, err)
				}
			}
		}
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestVerifyWrongKey(t *testing.T) {
	t.Parallel()
	tok := sign(t, otherKey, testClaim())
	if _, err := acklink.Verify(testKey, tok, mailedAt); !errors.Is(err, acklink.ErrInvalid) {
		t.Errorf("Verify with another key = %v, want ErrInvalid", err)
	}
}

// rawToken signs header and payload as given (JSON), with HMAC-SHA256 and
// key: a token well signed whatever it says.
func rawToken(key []byte, header, payload string) string {
	enc := base64.RawURLEncoding
	text := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(text))
	return text + "." + enc.EncodeToString(m.Sum(nil))
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	good := sign(t, testKey, testClaim())
	parts := strings.Split(good, ".")
	const hs256 = `{"alg":"HS256","typ":"JWT"}`
	exp := `"exp":1773000000`
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"one part", parts[0]},
		{"two parts", parts[0] + "." + parts[1]},
		{"four parts", good + "." + parts[2]},
		{"not base64", parts[0] + ".%%%." + parts[2]},
		{"no signature", parts[0] + "." + parts[1] + "."},
		{"padded signature", good + "="},
		{"too long", good + strings.Repeat("A", 5000)},
		{"payload not JSON", rawToken(testKey, hs256, `not json`)},
		{"alg none", rawToken(testKey, `{"alg":"none","typ":"JWT"}`, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[{"id":1,"sev":"warning"}]}`)},
		{"alg HS512", rawToken(testKey, `{"alg":"HS512","typ":"JWT"}`, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[{"id":1,"sev":"warning"}]}`)},
		{"another issuer", rawToken(testKey, hs256, `{"iss":"other","sub":"a",`+exp+`,"brs":[{"id":1,"sev":"warning"}]}`)},
		{"no expiry", rawToken(testKey, hs256, `{"iss":"dvcwatch/ack","sub":"a","brs":[{"id":1,"sev":"warning"}]}`)},
		{"no recipient", rawToken(testKey, hs256, `{"iss":"dvcwatch/ack",`+exp+`,"brs":[{"id":1,"sev":"warning"}]}`)},
		{"no breach", rawToken(testKey, hs256, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[]}`)},
		{"unknown severity", rawToken(testKey, hs256, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[{"id":1,"sev":"urgent"}]}`)},
		{"breach twice", rawToken(testKey, hs256, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[{"id":1,"sev":"info"},{"id":1,"sev":"info"}]}`)},
		{"breach id 0", rawToken(testKey, hs256, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[{"id":0,"sev":"info"}]}`)},
	} {
		if _, err := acklink.Verify(testKey, tc.token, mailedAt); !errors.Is(err, acklink.ErrInvalid) {
			t.Errorf("%s: Verify = %v, want ErrInvalid", tc.name, err)
		}
	}
	// The same well-formed payload, with the issuer and expiry ours, passes:
	// the cases above fail for what they change.
	ok := rawToken(testKey, hs256, `{"iss":"dvcwatch/ack","sub":"a",`+exp+`,"brs":[{"id":1,"sev":"warning"}]}`)
	if _, err := acklink.Verify(testKey, ok, mailedAt); err != nil {
		t.Errorf("a well-formed token signed by hand: %v", err)
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	edit := func(f func(*acklink.Claim)) acklink.Claim {
		c := testClaim()
		f(&c)
		return c
	}
	many := make([]dvcwatch.BreachRef, acklink.MaxBreaches+1)
	for i := range many {
		many[i] = dvcwatch.BreachRef{ID: int64(i + 1), Severity: dvcwatch.SeverityInfo}
	}
	for name, c := range map[string]acklink.Claim{
		"no recipient":     edit(func(c *acklink.Claim) { c.Recipient = "" }),
		"no breach":        edit(func(c *acklink.Claim) { c.Breaches = nil }),
		"too many":         edit(func(c *acklink.Claim) { c.Breaches = many }),
		"no expiry":        edit(func(c *acklink.Claim) { c.Expires = time.Time{} }),
		"unknown severity": edit(func(c *acklink.Claim) { c.Breaches[0].Severity = "high" }),
		"duplicate":        edit(func(c *acklink.Claim) { c.Breaches[1].ID = c.Breaches[0].ID }),
	} {
		if tok, err := acklink.Sign(testKey, c); err == nil {
			t.Errorf("%s: Sign = %q, want an error", name, tok)
		}
	}
	if _, err := acklink.Sign([]byte("short"), testClaim()); err == nil {
		t.Error("Sign with a 5-byte key: want an error")
	}
	if _, err := acklink.Verify([]byte("short"), sign(t, testKey, testClaim()), mailedAt); err == nil {
		t.Error("Verify with a 5-byte key: want an error")
	}
}
