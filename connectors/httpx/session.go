package httpx

import (
	"context"
	"errors"
	"time"
)

// LoginFunc logs in and returns the session or token with its lifetime (0 when
// the portal does not say).
type LoginFunc func(ctx context.Context) (token string, ttl time.Duration, err error)

// Session caches a connector's session or token. It logs in on first use,
// again shortly before the lifetime ends, and when a call reports the token
// rejected; concurrent callers share one login.
type Session struct {
	c       *Client
	login   LoginFunc
	lock    chan struct{} // a mutex that a cancelled ctx can stop waiting for
	token   string
	renewAt time.Time // zero: renew only on rejection
}

// NewSession returns a Session that logs in with login.
func (c *Client) NewSession(login LoginFunc) *Session {
	return &Session{c: c, login: login, lock: make(chan struct{}, 1)}
}

// Get returns the current token, logging in when there is none or it is about
// to expire.
func (s *Session) Get(ctx context.Context) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	if s.token != "" && (s.renewAt.IsZero() || s.c.now().Before(s.renewAt)) {
		return s.token, nil
	}
	return s.fetch(ctx)
}

// Renew replaces stale, the token a call found rejected; when another caller
// has replaced it already, the newer token is returned without a login.
func (s *Session) Renew(ctx context.Context, stale string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	if s.token != "" && s.token != stale {
		return s.token, nil
	}
	return s.fetch(ctx)
}

func (s *Session) fetch(ctx context.Context) (string, error) {
	s.token, s.renewAt = "", time.Time{}
	token, ttl, err := s.login(ctx)
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", errors.New("login returned no token")
	}
	s.token = token
	if ttl > 0 {
		// Renew a little early, so a token never expires on the wire.
		s.renewAt = s.c.now().Add(ttl - min(ttl/10, time.Minute))
	}
	s.c.logger.Info("logged in to portal", "connector", s.c.source, "ttl", ttl)
	return token, nil
}

func (s *Session) acquire(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *Session) release() { <-s.lock }
