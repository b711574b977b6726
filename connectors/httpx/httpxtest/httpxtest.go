// Package httpxtest holds what the connectors' tests share: doubles for the
// waits (a sleep that records, a rate limiter that counts), a log capture,
// portal replies that fail the ways portals fail, and JSON fixture helpers.
// Only tests import it.
package httpxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/internal/logbuf"
)

// Backoff base and cap of Options: small, and exact since the jitter is off.
const (
	Base = time.Millisecond
	Cap  = 8 * time.Millisecond
)

// Doubles replace the waits and the logger of a connector's client.
type Doubles struct {
	Sleeps  Sleeps
	Limiter Limiter
	Logs    Logs
}

// Options returns the client options that plug the doubles in: recorded
// sleeps, a counting limiter, a backoff of Base·2^n up to Cap without jitter,
// now as the time, and a debug-level logger into Logs.
func (d *Doubles) Options(now func() time.Time) []httpx.Option {
	return []httpx.Option{
		httpx.WithLimiter(&d.Limiter),
		httpx.WithSleep(d.Sleeps.Sleep),
		httpx.WithBackoff(Base, Cap),
		httpx.WithJitter(func(ceiling time.Duration) time.Duration { return ceiling }),
		httpx.WithClock(clock.Func(now)),
		httpx.WithLogger(d.Logs.Logger()),
	}
}

// Sleeps records the waits between retries instead of sleeping.
type Sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d and returns at once.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// All returns the waits so far.
func (s *Sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// Limiter counts the waits for the rate limit and never blocks.
type Limiter struct{ n atomic.Int64 }

// Wait counts one request.
func (l *Limiter) Wait(ctx context.Context) error {
	l.n.Add(1)
	return ctx.Err()
}

// Waits returns how many requests waited.
func (l *Limiter) Waits() int { return int(l.n.Load()) }

// Logs captures a logger's output.
type Logs struct{ logbuf.Buffer }

// Logger returns a debug-level text logger writing to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Status answers code with a short text body, and headers given as name, value pairs.
func Status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		http.Error(w, fmt.Sprintf("status %d", code), code)
	}
}

// Body answers 200 with s as a JSON body, whatever s is.
func Body(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(s))
	}
}

// Cut declares a longer body than the s it sends: the connection breaks mid-body.
func Cut(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(s)+1000))
		_, _ = w.Write([]byte(s))
	}
}

// Hang answers only when the client gives up.
func Hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// Drop closes the connection without a reply.
func Drop(w http.ResponseWriter, _ *http.Request) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// With returns a copy of m with the given key, value pairs set; a nil value
// deletes the key.
func With(m map[string]any, kv ...any) map[string]any {
	m = maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// JSON marshals v or fails the test.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
