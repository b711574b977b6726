// Package acklink owns the links by which an official acknowledges, from a
// digest email and without logging in, the breaches of one row (one dossier):
// the signed claim they carry (Sign, Verify), the link the composer puts in
// each row (Links), and what confirming a link does given the breaches as
// recorded now (Decide, pure). The admin server serves the page the link
// opens; the store records the acknowledgements.
//
// The token is a JSON Web Token (RFC 7519) signed with HMAC-SHA256, made and
// checked by github.com/golang-jwt/jwt/v5 rather than by a format of our
// own: a standard encoding that any JWT tool decodes when a link is
// questioned, and a maintained parser that compares signatures in constant
// time (hmac.Equal) and checks the signature before it trusts any claim. It
// is pinned here to HS256 (no "none", no algorithm confusion), to strict
// base64 (a signature altered only in the unused bits of its last character
// is refused, not accepted as the same bytes), to our issuer, and to a
// required expiry.
package acklink

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
)

// Errors of Verify. Each wraps the parser's reason for the log; none holds
// the token.
var (
	// ErrInvalid: the token is malformed, altered, or not signed with this
	// key (a key changed since the mail was sent voids its links too).
	ErrInvalid = errors.New("acknowledge link is damaged, altered or not signed with this server's key")
	// ErrExpired: the token is intact and signed with this key, but past its
	// expiry.
	ErrExpired = errors.New("acknowledge link has expired")
)

// MaxBreaches is the most breaches one link may carry: a row is one dossier,
// which has far fewer, and a bound keeps every link short.
const MaxBreaches = 64

// maxToken bounds what Verify parses: a token of MaxBreaches breaches is
// well under it, anything longer is not ours.
const maxToken = 4096

// issuer names the tokens' purpose, so that a token signed for something
// else with the same key (which it should never share) is not taken for one.
const issuer = "dvcwatch/ack"

// Claim is what an acknowledge link says: who was told (an official's id in
// the configuration), of which breaches at which severity, and until when
// the link works.
type Claim struct {
	Recipient string
	Breaches  []dvcwatch.BreachRef
	Expires   time.Time
}

// tokenClaims is Claim as the token's JSON payload: sub, iss, exp and brs.
type tokenClaims struct {
	jwt.RegisteredClaims
	Breaches []tokenRef `json:"brs"`
}

type tokenRef struct {
	ID       int64  `json:"id"`
	Severity string `json:"sev"`
}

// check reports what makes c no claim of ours: Sign refuses to sign it and
// Verify refuses it even when signed.
func (c Claim) check() error {
	switch {
	case c.Recipient == "":
		return errors.New("no recipient")
	case len(c.Breaches) == 0:
		return errors.New("no breach")
	case len(c.Breaches) > MaxBreaches:
		return fmt.Errorf("%d breaches, at most %d", len(c.Breaches), MaxBreaches)
	case c.Expires.IsZero():
		return errors.New("no expiry")
	}
	seen := make(map[int64]bool, len(c.Breaches))
	for _, b := range c.Breaches {
		switch {
		case b.ID <= 0:
			return fmt.Errorf("breach id %d", b.ID)
		case !b.Severity.Valid():
			return fmt.Errorf("breach %d: unknown severity %q", b.ID, b.Severity)
		case seen[b.ID]:
			return fmt.Errorf("breach %d twice", b.ID)
		}
		seen[b.ID] = true
	}
	return nil
}

func checkKey(key []byte) error {
	if len(key) < config.MinAckKeyLength {
		return fmt.Errorf("acknowledge link key of %d bytes: at least %d are needed", len(key), config.MinAckKeyLength)
	}
	return nil
}

// Sign returns c as a signed token, URL-safe (base64url and dots). The
// expiry is kept to the second.
func Sign(key []byte, c Claim) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("sign acknowledge link: %w", err)
	}
	if err := c.check(); err != nil {
		return "", fmt.Errorf("sign acknowledge link: %w", err)
	}
	tc := tokenClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: c.Recipient, ExpiresAt: jwt.NewNumericDate(c.Expires),
	}}
	for _, b := range c.Breaches {
		tc.Breaches = append(tc.Breaches, tokenRef{ID: b.ID, Severity: string(b.Severity)})
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign acknowledge link: %w", err)
	}
	return s, nil
}

// Verify checks token against key as of now and returns its claim. A token
// that is malformed, altered in any part, signed with another key or
// carrying a claim Sign would refuse fails with ErrInvalid; one intact but
// past its expiry (at or after it) with ErrExpired. The signature is checked
// first, so an expired token that was also altered is ErrInvalid.
func Verify(key []byte, token string, now time.Time) (Claim, error) {
	if err := checkKey(key); err != nil {
		return Claim{}, err
	}
	if len(token) > maxToken {
		return Claim{}, fmt.Errorf("%w: %d characters", ErrInvalid, len(token))
	}
	var tc tokenClaims
	_, err := jwt.ParseWithClaims(token, &tc, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithStrictDecoding(),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return Claim{}, fmt.Errorf("%w (at %s)", ErrExpired, tc.ExpiresAt.UTC().Format(time.RFC3339))
	default:
		return Claim{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c := Claim{Recipient: tc.Subject, Expires: tc.ExpiresAt.Time}
	for _, b := range tc.Breaches {
		c.Breaches = append(c.Breaches, dvcwatch.BreachRef{ID: b.ID, Severity: dvcwatch.Severity(b.Severity)})
	}
	if err := c.check(); err != nil {
		return Claim{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c, nil
}
