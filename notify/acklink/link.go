package acklink

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
)

// Path is where the admin server serves the page of a link: Path + token.
const Path = "/ack/"

// Links makes the acknowledge links of one configuration and checks them. A
// nil *Links is valid: acknowledge links are off, and Link returns "".
type Links struct {
	base     string // admin.public_url, without a trailing slash
	key      []byte
	validFor time.Duration
}

// New returns the links of a validated configuration, or nil when
// admin.public_url is not set (no links are sent).
func New(cfg *config.Config) (*Links, error) {
	if cfg.Admin.PublicURL == "" {
		return nil, nil
	}
	return NewLinks(cfg.Admin.PublicURL, []byte(cfg.Notify.AckKey.Reveal()), cfg.Notify.AckValidFor)
}

// NewLinks returns links under base (an http or https URL), signed with key
// and working for validFor after they are made.
func NewLinks(base string, key []byte, validFor time.Duration) (*Links, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("acknowledge links: base URL %q: want http:// or https://, a host, and no query or fragment", base)
	}
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("acknowledge links: %w", err)
	}
	if validFor <= 0 {
		return nil, errors.New("acknowledge links: the lifetime must be positive")
	}
	return &Links{base: strings.TrimRight(base, "/"), key: append([]byte(nil), key...), validFor: validFor}, nil
}

// Link returns the link by which recipient (an official's id) acknowledges
// breaches, each at the severity the email tells of it, working until
// validFor after now (the composing pass's time): one per row of a digest.
// It returns "" when links are off (l is nil) or there is nothing to
// acknowledge (no recipient or no breach); the row then goes without.
func (l *Links) Link(recipient string, breaches []dvcwatch.BreachRef, now time.Time) string {
	if l == nil {
		return ""
	}
	token, err := Sign(l.key, Claim{Recipient: recipient, Breaches: breaches, Expires: now.Add(l.validFor)})
	if err != nil {
		// Only a claim no row should make (none, or too many, breaches)
		// gets here: a row without a link still tells what it must.
		return ""
	}
	return l.base + Path + token
}

// Verify checks a token of this configuration's links as of now; see Verify.
func (l *Links) Verify(token string, now time.Time) (Claim, error) {
	return Verify(l.key, token, now)
}

// BaseURL returns admin.public_url: the origin officials' browsers post the
// page's form from, which may differ from the Host a proxy passes on.
func (l *Links) BaseURL() string { return l.base }

// Refs returns the breaches of alerts (one row: the alerts of one dossier to
// one recipient) at the severity the email tells of each, once each, in
// order: Link's second argument.
func Refs(alerts []dvcwatch.PendingAlert) []dvcwatch.BreachRef {
	out := make([]dvcwatch.BreachRef, 0, len(alerts))
	seen := make(map[int64]bool, len(alerts))
	for _, a := range alerts {
		if seen[a.Breach.ID] {
			continue
		}
		seen[a.Breach.ID] = true
		out = append(out, dvcwatch.BreachRef{ID: a.Breach.ID, Severity: a.Breach.Severity})
	}
	return out
}
