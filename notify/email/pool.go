package email

import (
	"context"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// The Sender keeps a connection open after a message the server accepted
// and sends the next message on it, as Postfix's connection cache does:
// the connection, STARTTLS's handshake and AUTH are paid once per
// connection, not per email. go-mail (like net/smtp) has no pool of its
// own, so this file is one.
//
// A kept connection is closed (QUIT) once it carried
// smtp.messages_per_connection messages, once it is maxAge old, after
// idleLimit unused (servers drop idle clients, and a firewall may drop
// them silently), at Close, and after any error. After a completed
// transaction the server is ready for the next MAIL (RFC 5321 §4.1.1.4), so
// no RSET is needed.
const (
	// idleLimit is well below any server's command timeout (RFC 5321
	// §4.5.3.2.7 asks for 5 minutes; Postfix's client keeps a connection
	// 2 s idle): deliveries come in bursts, and a burst keeps its
	// connections busy.
	idleLimit = 5 * time.Second
	// maxAge is Postfix's smtp_connection_reuse_time_limit.
	maxAge = 5 * time.Minute
)

// conn is one SMTP connection after its greeting, EHLO, STARTTLS and AUTH.
type conn struct {
	sc     *smtp.Client
	raw    net.Conn // under sc, closed when the context of its current send ends
	opened time.Time
	sent   int // messages the server accepted on it
	// unwatch ends the closing of raw with the current send's context; it
	// reports false if the context ended and raw is closed.
	unwatch func() bool
	idle    *time.Timer // while kept: closes it after idleLimit
}

// watch closes c's connection when ctx ends, until unwatch.
func (c *conn) watch(ctx context.Context) {
	c.unwatch = context.AfterFunc(ctx, func() { _ = c.raw.Close() })
}

// pool holds a Sender's idle connections, the most recently used last.
type pool struct {
	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// take returns the idle connection used last, or nil.
func (s *Sender) take() *conn {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	for len(s.pool.idle) > 0 {
		c := s.pool.idle[len(s.pool.idle)-1]
		s.pool.idle = s.pool.idle[:len(s.pool.idle)-1]
		if c.idle.Stop() {
			return c
		}
		// Its idle time ran out meanwhile: expire closes it.
	}
	return nil
}

// keep puts c, whose last message was accepted, back for the next send,
// or closes it if it has served its time or the Sender is closed.
func (s *Sender) keep(c *conn) {
	if !c.unwatch() {
		_ = c.raw.Close() // the send's context ended: the connection is closed
		return
	}
	if c.sent >= s.perConnection || time.Since(c.opened) >= maxAge {
		s.quit(c)
		return
	}
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	if s.pool.closed {
		go s.quit(c)
		return
	}
	s.pool.idle = append(s.pool.idle, c)
	c.idle = time.AfterFunc(s.idleLimit, func() { s.expire(c) })
}

// expire closes c once it was idle for idleLimit.
func (s *Sender) expire(c *conn) {
	s.pool.mu.Lock()
	for i, k := range s.pool.idle {
		if k == c {
			s.pool.idle = append(s.pool.idle[:i], s.pool.idle[i+1:]...)
			break
		}
	}
	s.pool.mu.Unlock()
	s.quit(c)
}

// takeIdle empties the pool and returns its connections, but those whose
// idle time ran out meanwhile: expire closes them.
func (s *Sender) takeIdle() []*conn {
	s.pool.mu.Lock()
	idle := s.pool.idle
	s.pool.idle = nil
	s.pool.mu.Unlock()
	return slices.DeleteFunc(idle, func(c *conn) bool { return !c.idle.Stop() })
}

// dropIdle closes every idle connection: one of them was found dead, and
// the others, opened to the same server, probably are too (it restarted).
func (s *Sender) dropIdle() {
	for _, c := range s.takeIdle() {
		_ = c.raw.Close()
	}
}

// Close says goodbye (QUIT) on every idle connection and closes them;
// connections in use are closed when their send ends. The Sender stays
// usable, one connection per message.
func (s *Sender) Close() error {
	s.pool.mu.Lock()
	s.pool.closed = true // keep closes the connections in use
	s.pool.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range s.takeIdle() {
		wg.Go(func() { s.quit(c) })
	}
	wg.Wait()
	return nil
}

// quit ends c's conversation politely, within smtp.timeout.
func (s *Sender) quit(c *conn) {
	if c.sc.UpdateDeadline(s.timeout) != nil || c.sc.Quit() != nil {
		_ = c.sc.Close()
	}
}
