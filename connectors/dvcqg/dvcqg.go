// Package dvcqg connects to the national public-service portal (Cổng Dịch vụ
// công quốc gia): it logs in for a session, pulls dossiers in date windows with
// DanhSachHoSo (the portal has no paging), looks one up with TraCuuHoSo and
// maps the portal's records to Dossiers. No official specification is public:
// the protocol is the one of public integrations and of our simulator. It
// imports the root package, config, connectors, connectors/httpx and sla (for
// the time zone).
package dvcqg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/sla"
)

// MinWindow is the shortest window a pull halves down to when the portal
// answers 413 (too many records); a busier minute fails the pull.
const MinWindow = time.Minute

// maxMergedEmpty bounds how many consecutive empty windows share one batch,
// so a long quiet stretch still moves the cursor now and then.
const maxMergedEmpty = 24

// Option configures a Client; the options are package httpx's, shared by
// every connector.
type Option = httpx.Option

// Client talks to one account of the national portal. It is safe for
// concurrent use.
type Client struct {
	cfg        config.Connector
	http       *httpx.Client
	session    *httpx.Session
	authURL    string
	serviceURL string
}

var (
	_ connectors.Puller = (*Client)(nil)
	_ connectors.Looker = (*Client)(nil)
)

// New builds the client of connector cfg, which must be of kind dvcqg; empty
// auth and service paths take config's defaults.
func New(cfg config.Connector, opts ...Option) (*Client, error) {
	if cfg.Kind != config.KindDVCQG {
		return nil, fmt.Errorf("dvcqg %q: kind is %q, want %q", cfg.Name, cfg.Kind, config.KindDVCQG)
	}
	var problems []string
	if cfg.AgencyCode == "" {
		problems = append(problems, "agency_code: required")
	}
	if cfg.Window < time.Second {
		problems = append(problems, fmt.Sprintf("window: must be at least 1s, found %s", cfg.Window))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("dvcqg %q: %s", cfg.Name, strings.Join(problems, "; "))
	}
	h, err := httpx.New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:        cfg,
		http:       h,
		authURL:    cfg.BaseURL + orDefault(cfg.AuthPath, "/api/auth"),
		serviceURL: cfg.BaseURL + orDefault(cfg.ServicePath, "/api/service"),
	}
	c.session = h.NewSession(c.login)
	return c, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Pull reads the dossiers updated from after.UpdatedAt up to the portal's
// clock (the Date header of its first reply), one window of cfg.Window per
// DanhSachHoSo call, halving a window the portal finds too full. Each batch's
// Next is its window's end, never later than the portal's clock; consecutive
// empty windows are handed over as one batch. The cursor must have a time: the
// portal cannot be read "from the beginning". Pull starts exactly at the
// cursor: re-reading an overlap is the caller's choice (ingest makes it).
func (c *Client) Pull(ctx context.Context, after connectors.Cursor, fn func(context.Context, connectors.Batch) error) error {
	if after.UpdatedAt.IsZero() {
		return c.http.Permanent("pull", errors.New("the cursor has no time: the portal is read in date windows, so a pull needs a start"))
	}
	loc := sla.Location()
	start := after.UpdatedAt.In(loc).Truncate(time.Second)
	full := c.cfg.Window.Truncate(time.Second)
	window := full
	var target time.Time // the portal's clock at the first reply: windows end there
	var pending *connectors.Batch
	merged := 0
	flush := func() error {
		if pending == nil {
			return nil
		}
		b := *pending
		pending, merged = nil, 0
		return fn(ctx, b)
	}
	for target.IsZero() || start.Before(target) {
		end := start.Add(window)
		if !target.IsZero() && end.After(target) {
			end = target
		}
		records, now, err := c.list(ctx, start, end)
		var pe *portalError
		if errors.As(err, &pe) && pe.Code == "413" {
			span := end.Sub(start)
			if span <= MinWindow {
				err = c.http.Permanent(windowName(start, end),
					fmt.Errorf("%w: too many records even in a window of %s", pe, span))
			} else {
				window = max(MinWindow, (span / 2).Truncate(time.Second))
				c.http.Logger().Info("portal finds the window too full; halving it", "connector", c.cfg.Name,
					"from", start, "to", end, "window", window)
				continue
			}
		}
		if err != nil {
			// Keep the progress of the quiet windows already read.
			if ctx.Err() == nil {
				if ferr := flush(); ferr != nil {
					return ferr
				}
			}
			return err
		}
		if now.IsZero() {
			now = c.http.Now() // no Date header: the best guess is our clock
		}
		now = now.In(loc).Truncate(time.Second)
		if target.IsZero() {
			target = now
		}
		// The portal may still write dossiers at or after its clock: a window
		// reaching past it is read only up to it.
		next := end
		if now.Before(next) {
			next = now
		}
		if next.Before(start) {
			next = start
		}
		b := batch(c.cfg.Name, records)
		b.Next = connectors.Cursor{UpdatedAt: next}
		c.http.Logger().Debug("window read", "connector", c.cfg.Name, "from", start, "to", next,
			"dossiers", len(b.Dossiers), "skipped", len(b.Skipped))
		switch {
		case len(b.Dossiers) > 0 || len(b.Skipped) > 0:
			pending, merged = nil, 0 // this batch's Next covers them
			if err := fn(ctx, b); err != nil {
				return err
			}
		case next.After(start):
			pending = &b
			if merged++; merged >= maxMergedEmpty {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if !next.After(start) {
			break // the portal's clock is at or before the cursor: nothing more to read
		}
		start = next
		window = min(full, window*2) // a busy stretch may be over
	}
	return flush()
}

// batch maps a window's records, skipping the unusable ones and keeping, of
// the copies of one dossier, the one updated last; dossiers come out in update
// order (see connectors.NewBatch).
func batch(source string, records []json.RawMessage) connectors.Batch {
	return connectors.NewBatch(records, func(raw json.RawMessage) (dvcwatch.Dossier, string) {
		return decode(source, raw)
	})
}

func windowName(start, end time.Time) string {
	return "DanhSachHoSo " + start.Format(DateLayout) + ".." + end.Format(DateLayout)
}

// list calls DanhSachHoSo for [start, end) and returns the records and the
// portal's clock from the reply.
func (c *Client) list(ctx context.Context, start, end time.Time) ([]json.RawMessage, time.Time, error) {
	var records []json.RawMessage
	now, err := c.service(ctx, "DanhSachHoSo", windowName(start, end), map[string]string{
		"ngayNhan1": start.Format(DateLayout),
		"ngayNhan2": end.Format(DateLayout),
	}, &records)
	return records, now, err
}

// Lookup returns the dossier with MaHoSo code, asking TraCuuHoSo; found is
// false when the portal answers 404. A record the sync would skip is an error.
func (c *Client) Lookup(ctx context.Context, code string) (dvcwatch.Dossier, bool, error) {
	name := "TraCuuHoSo " + code
	var raw json.RawMessage
	_, err := c.service(ctx, "TraCuuHoSo", name, map[string]string{"mahoso": code}, &raw)
	var pe *portalError
	switch {
	case errors.As(err, &pe) && pe.Code == "404":
		return dvcwatch.Dossier{}, false, nil
	case err != nil:
		return dvcwatch.Dossier{}, false, err
	case len(raw) == 0 || string(raw) == "null":
		return dvcwatch.Dossier{}, false, nil
	}
	d, reason := decode(c.cfg.Name, raw)
	switch {
	case reason != "":
		return dvcwatch.Dossier{}, false, c.http.Permanent(name, errors.New("unusable record: "+reason))
	case d.Key.Code != code:
		return dvcwatch.Dossier{}, false, c.http.Permanent(name, fmt.Errorf("the portal answered with dossier %q", d.Key.Code))
	}
	return d, true, nil
}

// envelope is the part every reply shares.
type envelope struct {
	Code    errorCode       `json:"error_code"`
	Message text            `json:"message"`
	Session text            `json:"session"` // login only
	Result  json.RawMessage `json:"result"`
}

// errorCode is error_code, sent as a number (0) or a string ("0", "00").
type errorCode struct {
	s   string
	set bool
}

func (e *errorCode) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	e.s = strings.TrimSpace(t.s)
	e.set = t.kind != "bad" && e.s != ""
	return nil
}

func (e errorCode) ok() bool { return e.set && strings.Trim(e.s, "0") == "" }

// portalError is a reply whose error_code the call does not accept.
type portalError struct{ Code, Message string }

func (e *portalError) Error() string {
	return fmt.Sprintf("portal error_code %s: %s", e.Code, e.Message)
}

// read judges a reply of the login or of a service: the envelope when
// error_code says success; rejected wraps a refusal of the credentials (HTTP
// 401 or error_code 401). A reply that is not JSON or has no error_code is
// retried, since portals under load cut bodies short.
func read(rep httpx.Reply, rejected func(error) error) (envelope, error) {
	var env envelope
	switch {
	case rep.Status == http.StatusUnauthorized:
		return env, rejected(rep.Unexpected())
	case rep.Status/100 != 2:
		return env, rep.Unexpected()
	}
	if err := json.Unmarshal(rep.Body, &env); err != nil {
		return env, httpx.Retry(fmt.Errorf("malformed reply (HTTP %d): %w", rep.Status, err))
	}
	switch {
	case !env.Code.set:
		return env, httpx.Retry(fmt.Errorf("malformed reply (HTTP %d): no error_code", rep.Status))
	case env.Code.s == "401":
		return env, rejected(&portalError{env.Code.s, env.Message.s})
	case !env.Code.ok():
		return env, &portalError{env.Code.s, env.Message.s}
	}
	return env, nil
}

func (c *Client) login(ctx context.Context) (string, time.Duration, error) {
	var session string
	err := c.http.Do(ctx, httpx.Call{
		Name:   "login",
		Method: http.MethodPost,
		URL:    c.authURL,
		Prepare: func(r *resty.Request, _ string) {
			r.SetHeader("dstcode", c.cfg.AgencyCode).SetBody(map[string]string{
				"username": c.cfg.Username,
				"password": c.cfg.Password.Reveal(),
			})
		},
		Handle: func(rep httpx.Reply) error {
			env, err := read(rep, func(err error) error {
				return fmt.Errorf("bad credentials for user %q: %w", c.cfg.Username, err)
			})
			switch {
			case err != nil:
				return err
			case env.Session.s == "":
				return httpx.Retry(errors.New("malformed reply: no session"))
			}
			session = env.Session.s
			return nil
		},
	})
	return session, 0, err
}

// service calls the named service with params, decodes a successful reply's
// result into result and returns the portal's clock (zero without a Date
// header). A code other than success comes back as a *portalError inside a
// permanent error; 401 logs in again once.
func (c *Client) service(ctx context.Context, service, name string, params map[string]string, result any) (time.Time, error) {
	var now time.Time
	err := c.http.Do(ctx, httpx.Call{
		Name:    name,
		Method:  http.MethodPost,
		URL:     c.serviceURL,
		Session: c.session,
		Prepare: func(r *resty.Request, session string) {
			body := map[string]string{"session": session, "madonvi": c.cfg.AgencyCode, "service": service}
			maps.Copy(body, params)
			r.SetBody(body)
		},
		Handle: func(rep httpx.Reply) error {
			env, err := read(rep, func(err error) error { return fmt.Errorf("%w: %w", err, httpx.ErrRenew) })
			if err != nil {
				return err
			}
			if r := bytes.TrimSpace(env.Result); len(r) > 0 && string(r) != "null" {
				if err := json.Unmarshal(r, result); err != nil {
					return httpx.Retry(fmt.Errorf("malformed result: %w", err))
				}
			}
			now, _ = rep.Date()
			return nil
		},
	})
	return now, err
}
