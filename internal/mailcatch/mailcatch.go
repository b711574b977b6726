// Package mailcatch is an SMTP server on loopback that keeps every message it
// accepts in memory: the mail server of tests and of the embedded demo. It
// speaks real SMTP (github.com/emersion/go-smtp), so the sender under test
// goes through a whole conversation. It can refuse recipients (550), hold
// messages in DATA, answer the end of a message late and drop the
// connection at QUIT, to test rejections, crashes mid-delivery and slow or
// flaky servers.
package mailcatch

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From       string
	To         []string
	Header     mail.Header
	Raw        []byte
	ReceivedAt time.Time
}

// Catcher is a running SMTP server.
type Catcher struct {
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu       sync.Mutex
	msgs     []Message
	rcpts    map[string]int // RCPT commands seen per address, accepted or not
	reject   map[string]bool
	hold     chan struct{} // while non-nil, DATA (or RCPT, holdRcpt) waits for it to close
	holdRcpt bool
	inData   chan struct{} // receives when a DATA starts while held
	accepted chan struct{}
	// headersOnly drops each message's raw bytes once its header is read
	// (KeepHeadersOnly).
	headersOnly bool

	faults faults // see faults.go
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until Close.
func Start(addr string) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Catcher{rcpts: map[string]int{}, reject: map[string]bool{},
		inData: make(chan struct{}, 64), accepted: make(chan struct{}, 1)}
	c.serve(ln)
	return c, nil
}

// serve starts a server on ln, whose connections can misbehave as faults say.
func (c *Catcher) serve(ln net.Listener) {
	ln = faultyListener{Listener: ln, f: &c.faults}
	c.ln, c.done = ln, make(chan struct{})
	c.srv = smtp.NewServer(backend{c})
	c.srv.Domain = "mailcatch.local"
	c.srv.ReadTimeout = time.Minute
	c.srv.WriteTimeout = time.Minute
	c.srv.MaxMessageBytes = 16 << 20
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln)
	}()
}

// Up listens again, on the same port, after Close: a mail server back from
// an outage, with the messages it accepted before. It is not safe to call
// while another goroutine calls Close, Addr or Port.
func (c *Catcher) Up() error {
	ln, err := net.Listen("tcp", c.ln.Addr().String())
	if err != nil {
		return err
	}
	c.serve(ln)
	return nil
}

// Addr returns the host:port the catcher listens on.
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Port returns the port the catcher listens on.
func (c *Catcher) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and drops open connections.
func (c *Catcher) Close() error {
	err := c.srv.Close()
	<-c.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// KeepHeadersOnly makes the catcher drop each message's raw bytes once its
// header is read: a benchmark that counts thousands of digests, or runs
// for hours, would otherwise measure the catcher's own memory.
func (c *Catcher) KeepHeadersOnly() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headersOnly = true
}

// Reject makes RCPT TO:<addr> fail with 550 (no such user).
func (c *Catcher) Reject(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reject[addr] = true
}

// Accept undoes Reject: RCPT TO:<addr> is accepted again.
func (c *Catcher) Accept(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.reject, addr)
}

// Hold makes every DATA wait, before anything is accepted, until Release;
// DataStarted receives once per DATA that waits. The server has answered 354
// by then, so the client may already have sent the whole message: a client
// that dies now may still have its message accepted after Release, as a real
// server would (SMTP's one window for a duplicate).
func (c *Catcher) Hold() { c.holdAt(false) }

// HoldRecipients makes every RCPT wait until Release, before the client has
// sent any of its message; DataStarted receives once per RCPT that waits. A
// client that dies now leaves nothing to accept.
func (c *Catcher) HoldRecipients() { c.holdAt(true) }

func (c *Catcher) holdAt(rcpt bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold == nil {
		c.hold = make(chan struct{})
	}
	c.holdRcpt = rcpt
}

// wait blocks while the catcher holds conversations at this stage.
func (c *Catcher) wait(rcpt bool) {
	c.mu.Lock()
	hold := c.hold
	if c.holdRcpt != rcpt {
		hold = nil
	}
	c.mu.Unlock()
	if hold != nil {
		select {
		case c.inData <- struct{}{}:
		default:
		}
		<-hold
	}
}

// Release lets held and later messages through.
func (c *Catcher) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold != nil {
		close(c.hold)
		c.hold = nil
	}
}

// DataStarted receives when a held DATA (or RCPT) starts waiting.
func (c *Catcher) DataStarted() <-chan struct{} { return c.inData }

// Accepted receives (coalesced) after each accepted message.
func (c *Catcher) Accepted() <-chan struct{} { return c.accepted }

// Messages returns the messages accepted so far, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Count returns how many messages were accepted so far.
func (c *Catcher) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// RcptCount returns how many times a RCPT named addr, accepted or not.
func (c *Catcher) RcptCount(addr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rcpts[addr]
}

type backend struct{ c *Catcher }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: b.c}, nil }

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.c.wait(true)
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.rcpts[to]++
	if s.c.reject[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	s.c.wait(false)
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // the client went away mid-message: nothing is accepted
	}
	s.c.faults.delayReply()
	m := Message{From: s.from, To: s.to, Raw: raw, ReceivedAt: time.Now()}
	if parsed, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = parsed.Header
	}
	s.c.mu.Lock()
	if s.c.headersOnly {
		m.Raw = nil
	}
	s.c.msgs = append(s.c.msgs, m)
	s.c.mu.Unlock()
	select {
	case s.c.accepted <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
