// Package outage keeps a lost dependency (Redis, the database) to two log
// lines: one when it stops answering, naming it and how often it is tried
// again, and one when it answers again, with how long it was gone and how many
// lines were kept back meanwhile. Without it every client logs every attempt:
// asynq's dequeue, forwarder and heartbeat loops and go-redis's pool write
// a line a second each, and each failed job another.
//
// A Monitor wraps the service's slog.Handler. A warning or error whose text
// names a watched dependency's address (or comes from a component that talks
// only to it, such as asynq, and reads as a connection failure) marks the
// dependency down and is counted instead of written; a probe pings every
// watched dependency at a steady cadence to tell when it is back. Only lines
// about a dependency the monitor watches are held back, and only while it
// runs: a one-shot command logs everything.
package outage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Dependency is something the service cannot work without.
type Dependency struct {
	// Name is how logs and /readyz call it: "redis", "database".
	Name string
	// Addr is the host:port its clients' errors name; "" when it has none (an
	// embedded store).
	Addr string
	// Components are values of the "component" attribute of log lines that
	// only this dependency's clients write (asynq and go-redis for Redis):
	// their connection failures belong to it even when they name no address.
	Components []string
	// Ping answers nil when the dependency works.
	Ping func(context.Context) error
}

// Monitor watches dependencies and collapses the log lines of their outages.
type Monitor struct {
	next  slog.Handler // where lines that are let through go
	log   *slog.Logger // the monitor's own two lines
	every time.Duration

	mu      sync.Mutex
	running bool
	deps    []*dep
}

type dep struct {
	Dependency
	down     bool
	since    time.Time // when it was seen down
	upAt     time.Time // when it was last seen back
	err      string    // the first error of the outage
	withheld int       // lines held back during the outage
}

// graceAfterUp is how long after a dependency answers again a failure line is
// taken for an attempt that started before, not a new outage.
const graceAfterUp = 2 * time.Second

// New returns a monitor that writes through next.
func New(next slog.Handler) *Monitor {
	return &Monitor{next: next, log: slog.New(next)}
}

// Logger is a logger whose lines pass through the monitor.
func (m *Monitor) Logger() *slog.Logger { return slog.New(&handler{m: m, next: m.next}) }

// Watch adds a dependency; call it before Run.
func (m *Monitor) Watch(d Dependency) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deps = append(m.deps, &dep{Dependency: d})
}

// Run pings every dependency every `every` until ctx ends, and collapses
// outage lines meanwhile.
func (m *Monitor) Run(ctx context.Context, every time.Duration) {
	m.mu.Lock()
	m.running, m.every = true, every
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.running = false
		m.mu.Unlock()
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.probe(ctx, every)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe pings each dependency once.
func (m *Monitor) probe(ctx context.Context, every time.Duration) {
	m.mu.Lock()
	deps := append([]*dep(nil), m.deps...)
	m.mu.Unlock()
	for _, d := range deps {
		if d.Ping == nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, min(every, 3*time.Second))
		err := d.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			m.failed(d, err.Error(), false)
		} else {
			m.answered(d)
		}
	}
}

// failed marks d down; the first failure of an outage is logged. line is
// whether a log line was held back for it.
func (m *Monitor) failed(d *dep, msg string, line bool) {
	m.mu.Lock()
	now := time.Now()
	if d.down {
		if line {
			d.withheld++
		}
		m.mu.Unlock()
		return
	}
	if now.Sub(d.upAt) < graceAfterUp {
		m.mu.Unlock()
		return
	}
	d.down, d.since, d.err, d.withheld = true, now, msg, 0
	if line {
		d.withheld = 1
	}
	every := m.every
	m.mu.Unlock()
	args := []any{"dependency", d.Name}
	if d.Addr != "" {
		args = append(args, "addr", d.Addr)
	}
	m.log.Error(fmt.Sprintf("%s unreachable; trying again every %s, and saying nothing more until it answers", d.Name, every),
		append(args, "retry_every", every.String(), "err", msg)...)
}

// answered marks d up; the end of an outage is logged.
func (m *Monitor) answered(d *dep) {
	m.mu.Lock()
	if !d.down {
		m.mu.Unlock()
		return
	}
	now := time.Now()
	down, withheld := now.Sub(d.since).Round(time.Second), d.withheld
	d.down, d.upAt, d.err, d.withheld = false, now, "", 0
	m.mu.Unlock()
	m.log.Info(d.Name+" reachable again", "dependency", d.Name, "down_for", down.String(), "lines_withheld", withheld)
}

// Down lists the dependencies seen down, with the error that began each
// outage, in the order they were watched.
func (m *Monitor) Down() []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, d := range m.deps {
		if d.down {
			errs = append(errs, fmt.Errorf("%s: %s", d.Name, d.err))
		}
	}
	return errs
}

// owner returns the watched dependency a line is about, if it is an outage
// line and the monitor runs.
func (m *Monitor) owner(text, component string) *dep {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running {
		return nil
	}
	for _, d := range m.deps {
		if d.Addr != "" && strings.Contains(text, d.Addr) {
			return d
		}
		for _, c := range d.Components {
			if c == component && connectionFailure(text) {
				return d
			}
		}
	}
	return nil
}

// connectionFailure tells a failure to reach a server from other errors.
func connectionFailure(text string) bool {
	for _, s := range []string{
		"connection refused", "connection reset", "broken pipe", "no route to host", "network is unreachable",
		"i/o timeout", "dial tcp", "EOF", "use of closed network connection", "connection pool", "LOADING",
	} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// handler is the slog.Handler a Monitor's Logger writes through.
type handler struct {
	m     *Monitor
	next  slog.Handler
	attrs string // text of the attributes added by With, for matching
	comp  string // the component attribute added by With
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(r.Message)
		b.WriteString(h.attrs)
		comp := h.comp
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "component" {
				comp = a.Value.String()
			}
			b.WriteString(" ")
			b.WriteString(a.Value.String())
			return true
		})
		if d := h.m.owner(b.String(), comp); d != nil {
			h.m.failed(d, r.Message+attrErr(r), true)
			return nil
		}
	}
	return h.next.Handle(ctx, r)
}

// attrErr is the record's err attribute as ": err", or "".
func attrErr(r slog.Record) string {
	var s string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			s = ": " + a.Value.String()
			return false
		}
		return true
	})
	return s
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	for _, a := range as {
		if a.Key == "component" {
			c.comp = a.Value.String()
		}
		c.attrs += " " + a.Value.String()
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// RedisLogger adapts go-redis's logging interface (redis.SetLogger) to log
// through the monitor as warnings of component go-redis, so that its pool's
// line per failed dial counts toward the outage.
type RedisLogger struct{ Log *slog.Logger }

// Printf logs one go-redis line.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "go-redis")
}
