// Package dvcqg connects to the national public-service portal (Cổng Dịch vụ
// công quốc gia): it logs in for a session, pulls dossiers in date windows with
// DanhSachHoSo (the portal has no paging), looks one up with TraCuuHoSo and
// maps the portal's records to Dossiers. No official specification is public:
// the protocol is the one of public integrations, which do not agree on how a
// window's ends are read (to the second, or as whole days with both ends
// included), so Pull works with either.
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
	"sync/atomic"
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

// Busy codes: an error_code that asks to be called again later, retried as
// HTTP 429 and 503 are (honouring a Retry-After). The portal writes its other
// errors as HTTP statuses too (401, 404, 413), so these are the statuses that
// mean "busy"; a gateway that answers 200 with the overload in the body (as
// public reports show) then costs a retry, not the pass.
const (
	CodeTooManyRequests = "429"
	CodeUnavailable     = "503"
)

// filtering is how the portal applies a DanhSachHoSo window, learned from its
// answers: an unknown portal may list whole days for a window (both ends'
// days included) or exactly the instants asked.
type filtering int32

const (
	filterUnknown   filtering = iota
	filterExact               // to the second
	filterWholeDays           // every record of the days of ngayNhan1 to ngayNhan2
)

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
	filter     atomic.Int32 // a filtering, learned once per client
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
// DanhSachHoSo call, halving a window the portal finds too full. Windows end
// at midnight at the latest (Asia/Ho_Chi_Minh), so that a portal that lists
// whole days never reads more than the day asked for and the next one. Each
// batch's Next is its window's end, never later than the portal's clock;
// consecutive empty windows are handed over as one batch. The cursor must
// have a time: the portal cannot be read "from the beginning". Pull starts
// exactly at the cursor: re-reading an overlap is the caller's choice (ingest
// makes it).
//
// A portal may read ngayNhan2 as excluded, as included, or as a whole day. A
// window is asked with its end, so every reading returns at least the window
// and duplicates are merged on MaHoSo by the store; only a portal that lists
// whole days needs more care, since halving inside one day never makes its
// answer smaller. When the portal finds a window too full the first time,
// Pull learns which kind of portal it talks to: a day's last window is asked
// up to 23:59:59 and its last second alone (too full only on a portal that
// adds the next day), and a window inside one day is followed by a question
// for a single second (too full, or answered with other seconds, only on a
// portal that lists whole days). A portal that lists whole days is then read
// one whole day per call, and a day it still finds too full fails the pull
// with the day named.
func (c *Client) Pull(ctx context.Context, after connectors.Cursor, fn func(context.Context, connectors.Batch) error) error {
	if after.UpdatedAt.IsZero() {
		return c.http.Permanent("pull", errors.New("the cursor has no time: the portal is read in date windows, so a pull needs a start"))
	}
	loc := sla.Location()
	start := after.UpdatedAt.In(loc).Truncate(time.Second)
	full := c.cfg.Window.Truncate(time.Second)
	window := full
	var target time.Time  // the portal's clock at the first reply: windows end there
	var trimmed time.Time // the midnight a day's last window is asked to end a second before
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
	fail := func(err error) error {
		// Keep the progress of the quiet windows already read.
		if ctx.Err() == nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
		}
		return err
	}
	for target.IsZero() || start.Before(target) {
		mode := filtering(c.filter.Load())
		midnight := nextMidnight(start)
		end := start.Add(window)
		if mode == filterWholeDays || end.After(midnight) {
			end = midnight // a portal that lists whole days answers with the day anyway
		}
		if !target.IsZero() && end.After(target) {
			end = target
		}
		ask, next := end, end // ngayNhan2, and where the records read are known to end
		lastSecond := end.Equal(midnight) && start.Equal(midnight.Add(-time.Second))
		switch {
		case mode == filterWholeDays && end.Equal(midnight) && !lastSecond:
			ask = end.Add(-time.Second)
		case mode == filterWholeDays && lastSecond:
			ask = start
		case mode == filterUnknown && end.Equal(trimmed) && !lastSecond:
			// Ask for the day alone; its last second comes next, on its own.
			ask, next = end.Add(-time.Second), end.Add(-time.Second)
		}
		records, now, err := c.list(ctx, start, ask)
		if pe := tooFull(err); pe != nil {
			if mode == filterUnknown {
				switch {
				case lastSecond && ask.Equal(midnight):
					// No portal holds too many records in one second: this one adds
					// the next day, so it lists whole days and the day was read whole.
					c.learn(filterWholeDays, "a day's last second holds too many records")
					continue
				case ask.Equal(midnight):
					trimmed = midnight
					continue
				}
				var dayTooFull bool
				if mode, dayTooFull, err = c.probe(ctx, start); err != nil {
					return fail(err)
				}
				if mode == filterWholeDays && !dayTooFull {
					continue // the day shrank since: ask again, for the whole day
				}
			}
			span := end.Sub(start)
			switch {
			case mode == filterWholeDays:
				err = c.http.Permanent(windowName(start, ask), fmt.Errorf(
					"%w: the portal lists whole days, and %s alone holds more dossiers than it lists at once",
					pe, start.Format(time.DateOnly)))
			case span <= MinWindow:
				err = c.http.Permanent(windowName(start, ask),
					fmt.Errorf("%w: too many records even in a window of %s", pe, span))
			default:
				window = max(MinWindow, (span / 2).Truncate(time.Second))
				c.http.Logger().Info("portal finds the window too full; halving it", "connector", c.cfg.Name,
					"from", start, "to", end, "window", window)
				continue
			}
		}
		if err != nil {
			return fail(err)
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

// probe asks DanhSachHoSo for the single second at, after a window inside
// at's day was found too full. A portal that reads windows to the second
// answers with that second's records at most; one that lists whole days
// answers with the day, which it just found too full. dayTooFull says the
// probe was too full itself. The answer is kept for the client's life.
func (c *Client) probe(ctx context.Context, at time.Time) (mode filtering, dayTooFull bool, err error) {
	records, _, err := c.list(ctx, at, at)
	switch {
	case tooFull(err) != nil:
		c.learn(filterWholeDays, "a single second holds too many records")
		return filterWholeDays, true, nil
	case err != nil:
		return filterUnknown, false, err
	}
	for _, d := range batch(c.cfg.Name, records).Dossiers {
		if !d.SourceUpdatedAt.Equal(at) {
			c.learn(filterWholeDays, "asked for a single second, it answered with others")
			return filterWholeDays, false, nil
		}
	}
	c.learn(filterExact, "asked for a single second, it answered with that second alone")
	return filterExact, false, nil
}

// learn keeps how the portal reads windows, and says so once.
func (c *Client) learn(f filtering, why string) {
	if filtering(c.filter.Swap(int32(f))) == f {
		return
	}
	how := "to the second"
	if f == filterWholeDays {
		how = "as whole days, both ends included; reading one day per call"
	}
	c.http.Logger().Info("portal reads DanhSachHoSo windows "+how, "connector", c.cfg.Name, "because", why)
}

// tooFull returns the portal's 413 (too many records to list) found in err,
// or nil.
func tooFull(err error) *portalError {
	var pe *portalError
	if errors.As(err, &pe) && pe.Code == "413" {
		return pe
	}
	return nil
}

// nextMidnight returns the start of the day after t's, in t's location.
func nextMidnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
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

// list calls DanhSachHoSo from start to end (ngayNhan1, ngayNhan2) and
// returns the records and the portal's clock from the reply.
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
// 401 or error_code 401). A busy code is retried like HTTP 503, and so is a
// reply that is not JSON or has no error_code, since portals under load cut
// bodies short.
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
	case env.Code.s == CodeTooManyRequests || env.Code.s == CodeUnavailable:
		return env, httpx.Busy(&portalError{env.Code.s, env.Message.s}, env.Code.s == CodeTooManyRequests)
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
