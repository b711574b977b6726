// Package onestop connects to the provincial one-stop system's (một cửa) REST
// API: a bearer token renewed before it expires, dossiers read in keyset pages
// ordered by (updated_at, code), one looked up by code, and the API's items
// mapped to Dossiers.
package onestop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Option configures a Client; the options are package httpx's, shared by
// every connector.
type Option = httpx.Option

// Busy errors: an "error" in a reply's body that asks to be called again
// later, whatever the HTTP status, retried as HTTP 503 and 429 are (honouring
// a Retry-After). ErrorUnavailable is OAuth 2.0's code for an overloaded or
// maintained server (RFC 6749 §4.1.2.1), which token-style APIs use where a
// 503 cannot be sent; ErrorRateLimited is the API's own name for a 429.
const (
	ErrorUnavailable = "temporarily_unavailable"
	ErrorRateLimited = "rate_limited"
)

// Client talks to one account of the one-stop system. It is safe for
// concurrent use.
type Client struct {
	cfg   config.Connector
	http  *httpx.Client
	token *httpx.Session
}

var (
	_ connectors.Puller = (*Client)(nil)
	_ connectors.Looker = (*Client)(nil)
)

// New builds the client of connector cfg, which must be of kind onestop.
func New(cfg config.Connector, opts ...Option) (*Client, error) {
	if cfg.Kind != config.KindOneStop {
		return nil, fmt.Errorf("onestop %q: kind is %q, want %q", cfg.Name, cfg.Kind, config.KindOneStop)
	}
	if cfg.PageSize < 1 {
		return nil, fmt.Errorf("onestop %q: page_size: must be at least 1, found %d", cfg.Name, cfg.PageSize)
	}
	h, err := httpx.New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, http: h}
	c.token = h.NewSession(c.login)
	return c, nil
}

// Pull follows the API's keyset pages from after until next is null. Each
// page is a batch whose Next is the reply's next, or, on the last page, the
// largest (updated_at, code) it held; Next never moves before after.
func (c *Client) Pull(ctx context.Context, after connectors.Cursor, fn func(context.Context, connectors.Batch) error) error {
	cur := after
	for {
		p, err := c.list(ctx, cur)
		if err != nil {
			return err
		}
		b, last := batch(c.cfg.Name, p.items)
		next := cur
		switch {
		case p.next != nil:
			next = *p.next
		case last.After(cur):
			next = last
		}
		if cur.After(next) {
			c.http.Logger().Warn("portal's next cursor is behind the one it was asked from; keeping ours",
				"connector", c.cfg.Name, "at", cur.UpdatedAt, "at_code", cur.Key, "next", next.UpdatedAt, "next_code", next.Key)
			next = cur
		}
		b.Next = next
		c.http.Logger().Debug("page read", "connector", c.cfg.Name, "after", cur.UpdatedAt, "after_code", cur.Key,
			"dossiers", len(b.Dossiers), "skipped", len(b.Skipped))
		if len(b.Dossiers) > 0 || len(b.Skipped) > 0 || next.After(cur) {
			if err := fn(ctx, b); err != nil {
				return err
			}
		}
		if p.next == nil {
			return nil
		}
		if !next.After(cur) {
			return c.http.Permanent(pageName(cur), errors.New("the reply's next cursor does not move forward; following it would loop"))
		}
		cur = next
	}
}

// batch maps a page's items, skipping the unusable ones and keeping, of the
// copies of one dossier, the one updated last; dossiers come out in keyset
// order (see connectors.NewBatch). last is the largest (updated_at, code) of
// any item that had both.
func batch(source string, items []json.RawMessage) (b connectors.Batch, last connectors.Cursor) {
	b = connectors.NewBatch(items, func(raw json.RawMessage) (dvcwatch.Dossier, string) {
		d, _, reason := decode(source, raw)
		if k := (connectors.Cursor{UpdatedAt: d.SourceUpdatedAt, Key: d.Key.Code}); k.Key != "" && !k.UpdatedAt.IsZero() && k.After(last) {
			last = k
		}
		return d, reason
	})
	return b, last
}

func pageName(cur connectors.Cursor) string {
	return fmt.Sprintf("list dossiers after (%s, %q)", formatTime(cur.UpdatedAt), cur.Key)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "start"
	}
	return t.In(sla.Location()).Format(time.RFC3339Nano)
}

type page struct {
	items []json.RawMessage
	next  *connectors.Cursor
}

// list reads the page after cur.
func (c *Client) list(ctx context.Context, cur connectors.Cursor) (page, error) {
	var p page
	err := c.http.Do(ctx, httpx.Call{
		Name:    pageName(cur),
		Method:  http.MethodGet,
		URL:     c.cfg.BaseURL + "/api/v1/dossiers",
		Session: c.token,
		Prepare: func(r *resty.Request, token string) {
			r.SetHeader("Authorization", "Bearer "+token).SetHeader("Accept", "application/json").
				SetQueryParam("limit", strconv.Itoa(c.cfg.PageSize))
			if !cur.UpdatedAt.IsZero() {
				r.SetQueryParam("updated_after", formatTime(cur.UpdatedAt))
			}
			if cur.Key != "" {
				r.SetQueryParam("after_code", cur.Key)
			}
		},
		Handle: func(rep httpx.Reply) error {
			if rep.Status/100 != 2 {
				return judge(rep)
			}
			var body struct {
				apiError
				Items []json.RawMessage `json:"items"`
				Next  *struct {
					UpdatedAfter string `json:"updated_after"`
					AfterCode    string `json:"after_code"`
				} `json:"next"`
			}
			if err := json.Unmarshal(rep.Body, &body); err != nil {
				return httpx.Retry(fmt.Errorf("malformed reply: %w", err))
			}
			if err := body.judge(rep); err != nil {
				return err // an error in a 200: no page, even if it has no items
			}
			p = page{items: body.Items}
			if n := body.Next; n != nil {
				t, err := parseTime(n.UpdatedAfter)
				if err != nil {
					return httpx.Retry(fmt.Errorf("malformed reply: next.updated_after: %w", err))
				}
				p.next = &connectors.Cursor{UpdatedAt: t, Key: n.AfterCode}
			}
			return nil
		},
	})
	return p, err
}

// Lookup returns the dossier with code; found is false when the API answers
// 404. An item the sync would skip is an error.
func (c *Client) Lookup(ctx context.Context, code string) (dvcwatch.Dossier, bool, error) {
	name := fmt.Sprintf("lookup dossier %q", code)
	var raw []byte
	err := c.http.Do(ctx, httpx.Call{
		Name:    name,
		Method:  http.MethodGet,
		URL:     c.cfg.BaseURL + "/api/v1/dossiers/" + url.PathEscape(code),
		Session: c.token,
		Prepare: func(r *resty.Request, token string) {
			r.SetHeader("Authorization", "Bearer "+token).SetHeader("Accept", "application/json")
		},
		Handle: func(rep httpx.Reply) error {
			if rep.Status == http.StatusNotFound {
				return nil
			}
			if rep.Status/100 != 2 {
				return judge(rep)
			}
			var e apiError
			if err := json.Unmarshal(rep.Body, &e); err != nil {
				return httpx.Retry(fmt.Errorf("malformed reply: %w", err))
			}
			if err := e.judge(rep); err != nil {
				return err
			}
			raw = rep.Body
			return nil
		},
	})
	if err != nil || raw == nil {
		return dvcwatch.Dossier{}, false, err
	}
	d, _, reason := decode(c.cfg.Name, raw)
	switch {
	case reason != "":
		return dvcwatch.Dossier{}, false, c.http.Permanent(name, errors.New("unusable item: "+reason))
	case d.Key.Code != code:
		return dvcwatch.Dossier{}, false, c.http.Permanent(name, fmt.Errorf("the API answered with dossier %q", d.Key.Code))
	}
	return d, true, nil
}

// apiError is the error an API reply's body may carry, whatever its status:
// {"error": "invalid_token", "message": "..."}.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// judge turns a call's reply that is not a 2xx into its outcome, from its
// status and its error body: 401 asks for a new token.
func judge(rep httpx.Reply) error {
	var e apiError
	_ = json.Unmarshal(rep.Body, &e) // an HTML error page has no error code
	return e.judge(rep)
}

// judge turns a reply whose body carried e into its outcome: nil for a 2xx
// without an error; a busy error is retried, whatever the status.
func (e apiError) judge(rep httpx.Reply) error {
	switch {
	case e.busy():
		return httpx.Busy(e.describe(rep), e.Error == ErrorRateLimited)
	case rep.Status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", rep.Unexpected(), httpx.ErrRenew)
	case rep.Status/100 != 2:
		return rep.Unexpected()
	case e.Error != "":
		return e.describe(rep)
	}
	return nil
}

// busy reports whether the error asks to be called again later.
func (e apiError) busy() bool { return e.Error == ErrorUnavailable || e.Error == ErrorRateLimited }

// describe names the reply's status and error; the message is quoted short,
// since the API writes what it likes there.
func (e apiError) describe(rep httpx.Reply) error {
	msg := ""
	if e.Message != "" {
		msg = ": " + connectors.Quote(e.Message)
	}
	return fmt.Errorf("HTTP %d with error %q%s", rep.Status, e.Error, msg)
}

func (c *Client) login(ctx context.Context) (string, time.Duration, error) {
	var token string
	var ttl time.Duration
	err := c.http.Do(ctx, httpx.Call{
		Name:   "token",
		Method: http.MethodPost,
		URL:    c.cfg.BaseURL + "/api/v1/auth/token",
		Prepare: func(r *resty.Request, _ string) {
			r.SetBody(map[string]string{"username": c.cfg.Username, "password": c.cfg.Password.Reveal()})
		},
		Handle: func(rep httpx.Reply) error {
			var body struct {
				apiError
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int64  `json:"expires_in"`
			}
			perr := json.Unmarshal(rep.Body, &body)
			switch {
			case body.busy():
				return body.judge(rep)
			case rep.Status == http.StatusUnauthorized:
				return fmt.Errorf("bad credentials for user %q: %w", c.cfg.Username, rep.Unexpected())
			case rep.Status/100 != 2 || body.Error != "":
				return body.judge(rep)
			case perr != nil:
				return httpx.Retry(fmt.Errorf("malformed reply: %w", perr))
			}
			if body.AccessToken == "" {
				return httpx.Retry(errors.New("malformed reply: no access_token"))
			}
			if body.TokenType != "" && !strings.EqualFold(body.TokenType, "Bearer") {
				return fmt.Errorf("token_type %q: only Bearer is supported", body.TokenType)
			}
			token, ttl = body.AccessToken, time.Duration(max(0, min(body.ExpiresIn, 1<<31)))*time.Second
			return nil
		},
	})
	return token, ttl, err
}
