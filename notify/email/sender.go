// Package email renders dvcwatch's Vietnamese alert digests and the office's
// daily summary and sends them over SMTP. It owns the templates (embedded
// defaults an operator may override), the masking of applicants' personal data,
// and the SMTP conversation with its retry classification.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/dvcwatch/dvcwatch/config"
)

// ErrRejected marks a permanent SMTP reply (5xx) to the message transaction,
// such as 550 for an unknown recipient: sending the same message again will
// fail again, so it must not be retried. Every other Send error is transient.
var ErrRejected = errors.New("rejected by the SMTP server")

// ErrPossiblySent marks a message written whole, whose end the server never
// answered (a timeout or a lost connection while waiting for the reply to
// the final "."): the server may have taken it, so sending it again may send
// it twice. It must not be retried automatically; an administrator decides.
// RFC 5321 §4.5.3.2.6 gives a server 10 minutes for that reply.
var ErrPossiblySent = errors.New("possibly delivered: the server did not answer the end of the message")

// ErrInvalidMessage marks a Message that cannot be sent as it is (a malformed
// address, a forbidden header); like ErrRejected it must not be retried.
var ErrInvalidMessage = errors.New("invalid email message")

// defaultTimeout and defaultDataTimeout apply when config.SMTP.Timeout or
// DataTimeout is zero; a zero MessagesPerConnection takes the
// configuration's default.
const (
	defaultTimeout     = 30 * time.Second
	defaultDataTimeout = 10 * time.Minute
)

// Message is one email to send; the body has a text part, an HTML part, or both
// (then as multipart/alternative).
type Message struct {
	To      []string // bare addresses or "Name <addr>"
	Subject string
	Text    string
	HTML    string
	// MessageID is stored with the notification so that a resend of the same
	// notification carries the same Message-ID and mail clients and the office can
	// recognise it; without "@" the domain of From is appended. Empty lets the
	// library generate a random one.
	MessageID string
	Headers   map[string]string // extra headers, e.g. X-Dvcwatch-Notification
	// Attachments go with the message as files.
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name, Type string
	Data       []byte
}

// Option adjusts a Sender built by New.
type Option func(*Sender)

// WithTLSConfig replaces the TLS configuration used for STARTTLS and implicit
// TLS, e.g. to trust a private CA; ServerName defaults to the configured host.
func WithTLSConfig(c *tls.Config) Option {
	return func(s *Sender) { s.tlsConfig = c.Clone() }
}

// Sender delivers Messages through one SMTP server. It is safe for concurrent
// use: each Send has a connection to itself, a kept one (see pool.go) or a
// new one. Close closes the kept ones.
type Sender struct {
	host     string
	port     int
	mode     string
	username string
	password config.Secret // revealed only to the AUTH exchange; a printed Sender shows it redacted
	from     string
	fromHost string
	timeout  time.Duration
	// dataTimeout bounds the wait for the reply to the end of the message.
	dataTimeout time.Duration
	tlsConfig   *tls.Config
	// perConnection is smtp.messages_per_connection.
	perConnection int
	idleLimit     time.Duration
	pool          pool
}

// New checks cfg and returns a Sender for it.
func New(cfg config.SMTP, opts ...Option) (*Sender, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp.host: required")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp.port: %d is not a TCP port", cfg.Port)
	}
	switch cfg.TLS {
	case config.TLSStartTLS, config.TLSImplicit, config.TLSNone:
	default:
		return nil, fmt.Errorf("smtp.tls: %q is not one of starttls, tls, none", cfg.TLS)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp.from: %q: %w", cfg.From, err)
	}
	if cfg.Username == "" && !cfg.Password.IsZero() {
		return nil, errors.New("smtp.password: set without smtp.username")
	}
	s := &Sender{
		host:     cfg.Host,
		port:     cfg.Port,
		mode:     cfg.TLS,
		username: cfg.Username,
		password: cfg.Password,
		from:     cfg.From,
		fromHost: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		timeout:  cfg.Timeout,
		// RFC 5321 §4.5.3.2.6's 10 minutes unless configured.
		dataTimeout:   cfg.DataTimeout,
		perConnection: cfg.MessagesPerConnection,
		idleLimit:     idleLimit,
	}
	if s.perConnection <= 0 {
		s.perConnection = config.DefaultMessagesPerConnection
	}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	if s.dataTimeout <= 0 {
		s.dataTimeout = defaultDataTimeout
	}
	for _, o := range opts {
		o(s)
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	return s, nil
}

// Send delivers m in one SMTP transaction; see SendAndRecord.
func (s *Sender) Send(ctx context.Context, m Message) error { return s.SendAndRecord(ctx, m, nil) }

// SendAndRecord delivers m in one SMTP transaction, on a connection kept
// from an earlier message or a new one. Each exchange is bounded by
// smtp.timeout, the wait for the reply to the end of the message by
// smtp.data_timeout, and all by ctx: cancelling ctx closes the connection.
//
// Once the server has accepted the message (250 to the end of DATA),
// record, when not nil, runs before the connection is kept for the next
// message or closed, and SendAndRecord returns its error: nothing that
// happens to the connection afterwards makes an accepted message a failure,
// and the caller records it as sent without waiting for the server's
// goodbye.
//
// A kept connection the server closed meanwhile (or one that refuses
// MAIL, such as past its limit of messages) fails at MAIL, before anything
// of the message was sent: the message then goes on a new connection. A
// permanent reply to the message transaction yields an error wrapping
// ErrRejected, a bad Message one wrapping ErrInvalidMessage, a message
// written whole whose end was never answered (timeout, lost connection,
// ctx ended) one wrapping ErrPossiblySent; anything else (refused
// connection, 4xx, TLS or AUTH failure, timeout before the end of the
// message) is transient. Errors never contain the password or the message
// body.
func (s *Sender) SendAndRecord(ctx context.Context, m Message, record func() error) error {
	msg, err := s.build(m)
	if err != nil {
		return fmt.Errorf("build email %q: %w: %w", m.Subject, ErrInvalidMessage, err)
	}
	id := msg.GetMessageID()
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	fail := func(err error) error { return fmt.Errorf("send email %s via %s: %w", id, addr, err) }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return fmt.Errorf("build email %q: %w: %w", m.Subject, ErrInvalidMessage, err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return fmt.Errorf("build email %q: %w: %w", m.Subject, ErrInvalidMessage, err)
	}

	c := s.take()
	if c != nil {
		c.watch(ctx)
		err = s.transact(c.sc, from, rcpts, msg)
		var st *stageError
		if err != nil && errors.As(err, &st) && st.stage == mailFrom && ctx.Err() == nil {
			// Dead or unwilling, and nothing of m was sent on it: m goes
			// on a new connection, as do the next messages.
			c.unwatch()
			_ = c.raw.Close()
			s.dropIdle()
			c = nil
		}
	}
	if c == nil {
		if c, err = s.dial(ctx); err != nil {
			return s.classify(ctx, fail, err)
		}
		err = s.transact(c.sc, from, rcpts, msg)
	}
	if err != nil {
		// The goodbye does not hold up the recording of the failure: the
		// claim's bound (config.SMTP.Conversation) counts the exchanges up
		// to the outcome.
		c.unwatch()
		go s.quit(c)
		return s.classify(ctx, fail, err)
	}
	c.sent++
	var recErr error
	if record != nil {
		recErr = record()
	}
	s.keep(c)
	return recErr
}

// dial opens a connection to the server and greets it: EHLO, STARTTLS and
// AUTH as configured, each bounded by smtp.timeout. The connection is
// closed when ctx ends.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	c := &conn{opened: time.Now()}
	client, err := gomail.NewClient(s.host, s.clientOptions(ctx, c)...)
	if err != nil {
		return nil, fmt.Errorf("set up client: %w", err)
	}
	// go-mail's own Send bounds the whole transaction, the reply to the end
	// of the message included, by one timeout, and has no hook between that
	// reply and QUIT. Its SMTP client lets us do both: the connection, TLS
	// and AUTH are go-mail's (bounded by smtp.timeout); the transaction is
	// ours, with a deadline per exchange.
	if c.sc, err = client.DialToSMTPClientWithContext(ctx); err != nil {
		if c.unwatch != nil {
			c.unwatch()
		}
		return nil, err
	}
	return c, nil
}

// transact runs MAIL, RCPT, DATA and the message on an open conversation.
// Every exchange gets smtp.timeout, the reply to the final "." data_timeout.
func (s *Sender) transact(sc *smtp.Client, from string, rcpts []string, msg *gomail.Msg) error {
	step := func(stage string, timeout time.Duration, f func() error) error {
		if err := sc.UpdateDeadline(timeout); err != nil {
			return &stageError{stage: stage, err: err}
		}
		if err := f(); err != nil {
			return &stageError{stage: stage, err: err}
		}
		return nil
	}
	if err := step(mailFrom, s.timeout, func() error { return sc.Mail(from) }); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := step("RCPT TO:<"+r+">", s.timeout, func() error { return sc.Rcpt(r) }); err != nil {
			return err
		}
	}
	var w io.WriteCloser
	if err := step("DATA", s.timeout, func() (err error) { w, err = sc.Data(); return err }); err != nil {
		return err
	}
	if err := step("message", s.timeout, func() error { _, err := msg.WriteTo(w); return err }); err != nil {
		return err
	}
	// The message is written but for its last buffered bytes and the final
	// ".", which Close sends before waiting for the reply: RFC 5321
	// §4.5.3.2.6 gives the server 10 minutes to answer, as it may be
	// filtering the message meanwhile. Past this point the server may have
	// taken the message whatever happens to the connection.
	return step(endOfData, s.dataTimeout, w.Close)
}

// The stages the Sender treats apart: MAIL, the first exchange of a
// transaction (a kept connection's failure there is retried on a new one),
// and the reply to the final "." of DATA.
const (
	mailFrom  = "MAIL FROM"
	endOfData = "end of message"
)

// stageError is an error of one stage of the transaction.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// classify wraps err with the class the Deliverer acts on.
func (s *Sender) classify(ctx context.Context, fail func(error) error, err error) error {
	var st *stageError
	inTransaction := errors.As(err, &st)
	var reply *textproto.Error
	replied := errors.As(err, &reply)
	switch {
	// A 5xx before the transaction (greeting, STARTTLS, AUTH 535) is a
	// problem of the server or its configuration, not of this message, so
	// it stays transient: once an operator fixes it, queued alerts go out.
	case inTransaction && replied && reply.Code >= 500 && reply.Code < 600:
		return fail(fmt.Errorf("%w: %w", ErrRejected, err))
	case inTransaction && st.stage == endOfData && !replied:
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return fail(fmt.Errorf("%w: %w", ErrPossiblySent, err))
	}
	if cerr := ctx.Err(); cerr != nil {
		return fail(fmt.Errorf("%w: %w", cerr, err))
	}
	return fail(err)
}

func (s *Sender) clientOptions(ctx context.Context, c *conn) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithDialContextFunc(s.dialer(ctx, c)),
	}
	if s.mode == config.TLSStartTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	} else {
		// implicit TLS is done by the dialer; none sends in clear.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.username != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&auth{user: s.username, pass: s.password.Reveal(), host: s.host}))
	}
	return opts
}

// dialer connects (with TLS from the first byte in implicit mode), keeps the
// connection in c and closes it when ctx ends, since go-mail bounds only the
// dial by ctx.
func (s *Sender) dialer(ctx context.Context, c *conn) gomail.DialContextFunc {
	return func(dctx context.Context, network, addr string) (net.Conn, error) {
		nd := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.mode == config.TLSImplicit {
			conn, err = (&tls.Dialer{NetDialer: nd, Config: s.tlsConfig}).DialContext(dctx, network, addr)
		} else {
			conn, err = nd.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		c.raw = conn
		c.watch(ctx)
		return conn, nil
	}
}

// auth picks PLAIN or LOGIN from what the server offers. Both refuse to send
// the password over a connection that is not TLS, except to localhost.
type auth struct {
	user, pass, host string
	inner            smtp.Auth
}

func (a *auth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	switch {
	case slices.Contains(si.Auth, "PLAIN"):
		a.inner = smtp.PlainAuth("", a.user, a.pass, a.host, false)
	case slices.Contains(si.Auth, "LOGIN"):
		a.inner = smtp.LoginAuth(a.user, a.pass, a.host, false)
	default:
		return "", nil, fmt.Errorf("server offers no AUTH mechanism dvcwatch supports (PLAIN, LOGIN): %q", si.Auth)
	}
	return a.inner.Start(si)
}

func (a *auth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.inner.Next(fromServer, more)
}

// reservedHeaders are set by Send from Message fields or by the MIME writer.
var reservedHeaders = []string{
	"From", "To", "Cc", "Bcc", "Subject", "Message-Id", "Date", "Mime-Version",
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("no recipient")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("no body")
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("subject contains a line break")
	}
	msg.Subject(m.Subject)
	if id := strings.Trim(m.MessageID, "<> "); id != "" {
		if strings.ContainsAny(id, "<> \t\r\n") {
			return nil, fmt.Errorf("message id %q contains spaces or angle brackets", m.MessageID)
		}
		if !strings.Contains(id, "@") {
			id += "@" + s.fromHost
		}
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	// Automated mail: no out-of-office replies back to the sender.
	msg.SetBulk()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	for k, v := range m.Headers {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if k == "" || strings.ContainsAny(k, ": \t\r\n") || slices.Contains(reservedHeaders, ck) {
			return nil, fmt.Errorf("header %q may not be set", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("header %s contains a line break", ck)
		}
		msg.SetGenHeader(gomail.Header(ck), v)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		if a.Name == "" || strings.ContainsAny(a.Name, "/\\\r\n") {
			return nil, fmt.Errorf("attachment name %q", a.Name)
		}
		var opts []gomail.FileOption
		if a.Type != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(a.Type)))
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), opts...)
	}
	return msg, nil
}
