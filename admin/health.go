package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/health"
)

// Health is what the API shows of dvcwatch's own failures: the connectors'
// health and the mail server's state; *health.Tracker is one.
type Health interface {
	Connectors(ctx context.Context) ([]health.Status, error)
	SMTP(ctx context.Context) (dvcwatch.SMTPState, error)
}

// Operations is the state of what dvcwatch depends on, as an operator acts
// on it: GET /api/v1/health, and part of the dashboard.
type Operations struct {
	// Connectors are every configured connector, by name; the UI shows a
	// banner for each one stopped.
	Connectors []ConnectorHealth `json:"connectors"`
	SMTP       *SMTPHealth       `json:"smtp,omitempty"`
}

// ConnectorHealth is a connector's health.
type ConnectorHealth struct {
	Name string `json:"name"`
	// State is ok (or never synced), failing (retried at each tick) or
	// stopped (after a permanent failure: scheduled runs are skipped).
	State       string     `json:"state"`
	Since       *time.Time `json:"since,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastError   string     `json:"last_error,omitempty"` // short, no secret
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	Cause       string     `json:"cause,omitempty"` // see GET /ui/causes.js, or the README
	Failures    int        `json:"failures"`        // consecutive failed syncs
	// ConfigChanged: stopped, and this replica's configuration of the
	// connector is not the one it stopped with; its next tick retries.
	ConfigChanged bool `json:"config_changed,omitempty"`
	// Schedules are its sync schedules, the ones to run by hand
	// (POST /api/v1/schedules/{name}/run).
	Schedules []string `json:"schedules,omitempty"`
}

// SMTPHealth is the mail server's state, judged by the latest delivery
// attempts.
type SMTPHealth struct {
	// Failing: each of the latest delivery attempts (up to 3) failed with an
	// error worth retrying: the server down, refusing to relay, TLS, login.
	Failing        bool       `json:"failing"`
	RecentAttempts int        `json:"recent_attempts"`
	RecentFailed   int        `json:"recent_failed"`
	LastSent       *time.Time `json:"last_sent,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastErrorAt    *time.Time `json:"last_error_at,omitempty"`
	Cause          string     `json:"cause,omitempty"`
}

// operations reads the health; without a Health it is empty.
func (s *Server) operations(ctx context.Context) (Operations, error) {
	ops := Operations{Connectors: []ConnectorHealth{}}
	if s.opts.Health == nil {
		return ops, nil
	}
	cs, err := s.opts.Health.Connectors(ctx)
	if err != nil {
		return ops, err
	}
	ops.Connectors = views(cs, func(c health.Status) ConnectorHealth {
		return ConnectorHealth{Name: c.Connector, State: string(c.State), Since: timePtr(c.Since),
			LastSuccess: timePtr(c.LastSuccess), LastError: c.LastError, LastErrorAt: timePtr(c.LastErrorAt),
			Cause: string(c.Cause), Failures: c.Failures, ConfigChanged: c.ConfigChanged, Schedules: c.Schedules}
	})
	m, err := s.opts.Health.SMTP(ctx)
	if err != nil {
		return ops, err
	}
	ops.SMTP = &SMTPHealth{Failing: m.Failing, RecentAttempts: m.Attempts, RecentFailed: m.Failed, LastSent: timePtr(m.LastSent),
		LastError: m.LastError, LastErrorAt: timePtr(m.LastErrorAt), Cause: string(failure.OfText(m.LastError))}
	return ops, nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request, _ Principal) error {
	ops, err := s.operations(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ops)
	return nil
}
