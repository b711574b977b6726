// Package client is a Go client of dvcwatch's admin API (package admin), the
// one the CLI's jobs, schedules and silences commands use. It sends a bearer
// token, speaks the API's own JSON types (admin.Task, admin.Schedule, …), and
// returns every answer other than a success as an *APIError that carries the
// status and the server's message. The token goes in the Authorization
// header only: it is never logged, nor put in an error.
package client

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
	"unicode/utf8"

	"github.com/go-resty/resty/v2"

	"github.com/dvcwatch/dvcwatch/admin"
)

// DefaultTimeout bounds one request when no WithTimeout is given; a schedule
// change waits up to 2 s on the server for the scheduler to apply it.
const DefaultTimeout = 30 * time.Second

// maxBody bounds an answer read into memory: a list of 1,000 tasks with their
// payloads fits many times over.
const maxBody = 32 << 20

// Client sends requests to one admin API server.
type Client struct {
	base   string // scheme://host[:port][/prefix], no trailing slash
	http   *resty.Client
	onBody func(body []byte)
}

// Option changes how New builds a Client.
type Option func(*settings)

type settings struct {
	hc      *http.Client
	timeout time.Duration
	onBody  func([]byte)
}

// WithHTTPClient sends the requests through hc (its transport, TLS, proxy).
// The Client uses a copy of it without a cookie jar and without following
// redirects: credentials travel only to the server named.
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.hc = hc } }

// WithTimeout bounds each request; zero or less means DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithAnswerBody calls fn with the body of every successful answer as the
// server sent it, before it is decoded: what a CLI's --json prints.
func WithAnswerBody(fn func(body []byte)) Option { return func(s *settings) { s.onBody = fn } }

// New returns a client of the admin API at server (e.g.
// http://127.0.0.1:8080, or a URL with a path prefix behind a reverse proxy)
// that authenticates with token.
func New(server, token string, opts ...Option) (*Client, error) {
	base, err := baseURL(server)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("admin API client: no token")
	}
	s := settings{hc: &http.Client{}, timeout: DefaultTimeout}
	for _, o := range opts {
		o(&s)
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	hc := *s.hc
	hc.Jar = nil
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := resty.NewWithClient(&hc).
		SetBaseURL(base).
		SetAuthToken(strings.TrimSpace(token)).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", "dvcwatch-admin-client").
		SetTimeout(s.timeout).
		SetRetryCount(0).
		SetResponseBodyLimit(maxBody).
		// resty's debug dump would print the Authorization header: it stays
		// off, and so do its warnings, which go nowhere useful.
		SetDebug(false).
		SetDisableWarn(true).
		SetLogger(discard{})
	return &Client{base: base, http: r, onBody: s.onBody}, nil
}

// Server returns the server's base URL, as requests are sent to it.
func (c *Client) Server() string { return c.base }

func baseURL(server string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	switch {
	case !strings.Contains(server, "://"):
		return "", fmt.Errorf("admin API URL %q: want http://host:port (or https://)", server)
	case err != nil:
		return "", fmt.Errorf("admin API URL %q: %w", server, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("admin API URL %q: want http:// or https://", server)
	case u.Host == "":
		return "", fmt.Errorf("admin API URL %q: no host", server)
	case u.User != nil:
		return "", fmt.Errorf("admin API URL %s: credentials in the URL are not sent; use the token", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("admin API URL %q: no query or fragment, please", server)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// APIError is an answer of the admin API other than a success.
type APIError struct {
	Method     string
	Path       string // as sent, escaped, without the query
	StatusCode int
	// Message is the server's (admin.ErrorBody), else the start of the body.
	Message string
}

// Error reads e.g. `PUT /api/v1/schedules/sync: 400 Bad Request: schedule
// sync: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`.
func (e *APIError) Error() string {
	status := strconv.Itoa(e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		status += " " + text
	}
	if e.Message == "" {
		return e.Method + " " + e.Path + ": " + status
	}
	return e.Method + " " + e.Path + ": " + status + ": " + e.Message
}

// StatusCode returns the HTTP status of err's *APIError, or 0 if err is not
// an answer of the server (a network error, say).
func StatusCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// call sends one request and decodes a successful answer into out (nil:
// none expected). path holds the escaped path already.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	r := c.http.R().SetContext(ctx)
	if len(query) > 0 {
		r.SetQueryParamsFromValues(query)
	}
	if body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	resp, err := r.Execute(method, path)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL is ours below, without the query
		}
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return fmt.Errorf("%s %s%s: %w", method, c.base, path, err)
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		return &APIError{Method: method, Path: path, StatusCode: status, Message: message(resp)}
	}
	if c.onBody != nil {
		c.onBody(resp.Body())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body(), out); err != nil {
		return fmt.Errorf("%s %s: %d answer: %w", method, path, status, err)
	}
	return nil
}

// message is what the server said in an error answer: its ErrorBody, else
// the first line of a body that is not one (a proxy's page, say), else where
// a redirect points.
func message(resp *resty.Response) string {
	var e admin.ErrorBody
	if err := json.Unmarshal(resp.Body(), &e); err == nil && e.Error != "" {
		return e.Error
	}
	if loc := resp.Header().Get("Location"); loc != "" && resp.StatusCode() >= 300 && resp.StatusCode() < 400 {
		return "redirected to " + loc + "; give the admin API's own URL"
	}
	s := strings.TrimSpace(string(resp.Body()))
	if line, _, ok := strings.Cut(s, "\n"); ok {
		s = strings.TrimSpace(line) + " …"
	}
	if len(s) > 200 {
		i := 200
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + " …"
	}
	return s
}

// seg escapes one path segment: task IDs hold ':', '@' and maybe '/'.
func seg(s string) string { return url.PathEscape(s) }

// limitQuery adds limit when positive; zero leaves the server's default.
func limitQuery(q url.Values, limit int) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

// Whoami returns the name and role of the client's token.
func (c *Client) Whoami(ctx context.Context) (admin.Whoami, error) {
	var w admin.Whoami
	err := c.call(ctx, http.MethodGet, "/api/v1/whoami", nil, nil, &w)
	return w, err
}

// Dashboard returns the overview the UI's first page shows.
func (c *Client) Dashboard(ctx context.Context) (admin.Dashboard, error) {
	var d admin.Dashboard
	err := c.call(ctx, http.MethodGet, "/api/v1/dashboard", nil, nil, &d)
	return d, err
}

// Jobs lists the queue's tasks in state (one of admin.TaskStates; "" is
// archived), at most limit of them (0: the server's default, 100).
func (c *Client) Jobs(ctx context.Context, state string, limit int) ([]admin.Task, error) {
	q := limitQuery(nil, limit)
	if state != "" {
		q.Set("state", state)
	}
	var ts []admin.Task
	err := c.call(ctx, http.MethodGet, "/api/v1/jobs", q, nil, &ts)
	return ts, err
}

// FailedJobs lists the failures kept in SQL, the most recent first: those no
// administrator has handled, or all of them.
func (c *Client) FailedJobs(ctx context.Context, all bool, limit int) ([]admin.FailedTask, error) {
	q := limitQuery(nil, limit)
	if all {
		q.Set("all", "1")
	}
	var fs []admin.FailedTask
	err := c.call(ctx, http.MethodGet, "/api/v1/jobs/failed", q, nil, &fs)
	return fs, err
}

// RunFilter selects the job runs Runs lists, the newest first.
type RunFilter struct {
	Job    string // e.g. "sync"; "": every job
	Status string // succeeded, failed or skipped; "": every one
	Cursor string // a page's NextCursor: the page after it
	Limit  int    // 0: the server's default, 100
}

// Runs lists a page of job runs, the newest first, with how many the filter
// selects in all.
func (c *Client) Runs(ctx context.Context, f RunFilter) (admin.Page[admin.JobRun], error) {
	q := limitQuery(nil, f.Limit)
	setAll(q, map[string]string{"job": f.Job, "status": f.Status, "cursor": f.Cursor})
	var p admin.Page[admin.JobRun]
	err := c.call(ctx, http.MethodGet, "/api/v1/jobs/runs", q, nil, &p)
	return p, err
}

// NotificationFilter selects the emails Notifications lists, the newest
// first.
type NotificationFilter struct {
	State     string // pending, sending, sent or failed; "": every one
	Kind      string // alerts, summary or operator; "": every one
	Recipient string // an official's id
	Cursor    string
	Limit     int // 0: the server's default, 50
}

// Notifications lists a page of the outbox's emails (without their bodies),
// the newest first, with how many the filter selects in all.
func (c *Client) Notifications(ctx context.Context, f NotificationFilter) (admin.Page[admin.Notification], error) {
	q := limitQuery(nil, f.Limit)
	setAll(q, map[string]string{"state": f.State, "kind": f.Kind, "recipient": f.Recipient, "cursor": f.Cursor})
	var p admin.Page[admin.Notification]
	err := c.call(ctx, http.MethodGet, "/api/v1/notifications", q, nil, &p)
	return p, err
}

// setAll sets the parameters of m that are not empty.
func setAll(q url.Values, m map[string]string) {
	for k, v := range m {
		if v != "" {
			q.Set(k, v)
		}
	}
}

// RetryJob runs a scheduled, retry or archived task now; a task the queue no
// longer holds is put back from its SQL failure record (Requeued).
func (c *Client) RetryJob(ctx context.Context, id string) (admin.RetryResult, error) {
	var r admin.RetryResult
	err := c.call(ctx, http.MethodPost, "/api/v1/jobs/"+seg(id)+"/retry", nil, nil, &r)
	return r, err
}

// RetryAllArchived runs every archived task now.
func (c *Client) RetryAllArchived(ctx context.Context) (admin.RetryResult, error) {
	var r admin.RetryResult
	err := c.call(ctx, http.MethodPost, "/api/v1/jobs/retry-archived", nil, nil, &r)
	return r, err
}

// DeleteJob deletes a task from the queue, or closes its SQL failure record
// when the queue no longer holds it.
func (c *Client) DeleteJob(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/jobs/"+seg(id), nil, nil, nil)
}

// Schedules lists the schedules as they run.
func (c *Client) Schedules(ctx context.Context) ([]admin.Schedule, error) {
	var ss []admin.Schedule
	err := c.call(ctx, http.MethodGet, "/api/v1/schedules", nil, nil, &ss)
	return ss, err
}

// RunSchedule enqueues the task of schedule name now and returns its ID.
func (c *Client) RunSchedule(ctx context.Context, name string) (admin.RunResult, error) {
	var r admin.RunResult
	err := c.call(ctx, http.MethodPost, "/api/v1/schedules/"+seg(name)+"/run", nil, nil, &r)
	return r, err
}

// PauseSchedule stops enqueueing the ticks of schedule name until resumed.
func (c *Client) PauseSchedule(ctx context.Context, name string) (admin.Schedule, error) {
	var s admin.Schedule
	err := c.call(ctx, http.MethodPost, "/api/v1/schedules/"+seg(name)+"/pause", nil, nil, &s)
	return s, err
}

// ResumeSchedule enqueues the ticks of schedule name again, from its next one.
func (c *Client) ResumeSchedule(ctx context.Context, name string) (admin.Schedule, error) {
	var s admin.Schedule
	err := c.call(ctx, http.MethodPost, "/api/v1/schedules/"+seg(name)+"/resume", nil, nil, &s)
	return s, err
}

// SetSchedule makes cron the expression of schedule name, in the schedule's
// time zone unless it names one (CRON_TZ=).
func (c *Client) SetSchedule(ctx context.Context, name, cron string) (admin.Schedule, error) {
	var s admin.Schedule
	err := c.call(ctx, http.MethodPut, "/api/v1/schedules/"+seg(name), nil, admin.ScheduleChange{Cron: cron}, &s)
	return s, err
}

// BreachFilter selects the breaches Breaches lists.
type BreachFilter struct {
	All        bool   // resolved ones too (State "all")
	State      string // open (the server's default), resolved or all
	Agency     string // DonViXuLy code
	Department string
	Official   string
	Procedure  string // MaTTHC
	Kind       string // a dvcwatch.BreachKind, e.g. overdue
	Severity   string // info, warning or critical
	Silenced   string // yes or no; "": both
	Recipient  string // the breaches this official was told of
	Search     string // a dossier code or receipt number
	Sort       string // late (the server's default), due or detected
	Cursor     string // a page's NextCursor: the page after it
	Limit      int    // 0: the server's default, 200
}

// Breaches lists a page of recorded breaches in the filter's order, with how
// many the filter selects in all.
func (c *Client) Breaches(ctx context.Context, f BreachFilter) (admin.Page[admin.Breach], error) {
	q := limitQuery(nil, f.Limit)
	setAll(q, map[string]string{"state": f.State, "agency": f.Agency, "department": f.Department, "official": f.Official,
		"procedure": f.Procedure, "kind": f.Kind, "severity": f.Severity, "silenced": f.Silenced, "recipient": f.Recipient,
		"q": f.Search, "sort": f.Sort, "cursor": f.Cursor})
	if f.All && f.State == "" {
		q.Set("state", "all")
	}
	var p admin.Page[admin.Breach]
	err := c.call(ctx, http.MethodGet, "/api/v1/breaches", q, nil, &p)
	return p, err
}

// AckBreach acknowledges breach id on behalf of official, with a reason.
func (c *Client) AckBreach(ctx context.Context, id int64, official, reason string) (admin.Breach, error) {
	var b admin.Breach
	path := "/api/v1/breaches/" + strconv.FormatInt(id, 10) + "/ack"
	err := c.call(ctx, http.MethodPost, path, nil, admin.AckRequest{Official: official, Reason: reason}, &b)
	return b, err
}

// Silences lists the silences active now, or every one (all), the most
// recently created first.
func (c *Client) Silences(ctx context.Context, all bool, limit int) ([]admin.Silence, error) {
	q := limitQuery(nil, limit)
	if all {
		q.Set("all", "1")
	}
	var ss []admin.Silence
	err := c.call(ctx, http.MethodGet, "/api/v1/silences", q, nil, &ss)
	return ss, err
}

// AddSilence creates a silence; the server records the token's name as its
// author.
func (c *Client) AddSilence(ctx context.Context, req admin.SilenceRequest) (admin.Silence, error) {
	var s admin.Silence
	err := c.call(ctx, http.MethodPost, "/api/v1/silences", nil, req, &s)
	return s, err
}

// ExpireSilence ends silence id now.
func (c *Client) ExpireSilence(ctx context.Context, id int64) (admin.Silence, error) {
	var s admin.Silence
	err := c.call(ctx, http.MethodPost, "/api/v1/silences/"+strconv.FormatInt(id, 10)+"/expire", nil, nil, &s)
	return s, err
}

// discard drops resty's own log lines.
type discard struct{}

func (discard) Errorf(string, ...any) {}
func (discard) Warnf(string, ...any)  {}
func (discard) Debugf(string, ...any) {}
