package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
)

const (
	testUser     = "canhbao@ubnd.example.vn"
	testPassword = "s3cret-Mật-khẩu"
)

// received is one message the test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	auth string // user name that authenticated, "" if none
}

// backend is an in-process SMTP server: it accepts every recipient except
// unknown@… (550) and busy@… (451), and records what it accepted. It
// counts its connections, and those closed.
type backend struct {
	mu   sync.Mutex
	msgs []received
	// perConnection, if not zero, answers MAIL with 421 once a session
	// carried that many messages, as Exchange does past its limit.
	perConnection  int
	opened, closed int
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, msg: received{tls: isTLS}, conn: c}, nil
}

// connections returns how many connections the server took and how many
// of them are closed.
func (b *backend) connections() (opened, closed int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opened, b.closed
}

// countingListener counts in its backend the connections it accepts and
// those closed.
type countingListener struct {
	net.Listener
	b *backend
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.b.mu.Lock()
	l.b.opened++
	l.b.mu.Unlock()
	return &countedConn{Conn: c, b: l.b}, nil
}

type countedConn struct {
	net.Conn
	b    *backend
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.b.mu.Lock()
		c.b.closed++
		c.b.mu.Unlock()
	})
	return c.Conn.Close()
}

func (b *backend) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	b    *backend
	conn *smtp.Conn
	msg  received
	sent int
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != testUser || pass != testPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.msg.auth = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.perConnection > 0 && s.sent >= s.b.perConnection {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "too many messages on this connection"}
	}
	s.msg.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "unknown@"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	case strings.HasPrefix(to, "busy@"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	m := s.msg
	m.data, m.tls = data, isTLS
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, m)
	s.b.mu.Unlock()
	s.sent++
	return nil
}

func (s *session) Reset()        { s.msg = received{auth: s.msg.auth} }
func (s *session) Logout() error { return nil }

// testBundle is a running server and a Sender configured for it.
type testBundle struct {
	backend *backend
	sender  *Sender
	cfg     config.SMTP
	ca      *x509.CertPool
}

type setupOpts struct {
	mode          string // config.TLSNone, TLSStartTLS or TLSImplicit
	serverTLS     bool   // offer STARTTLS (ignored for implicit)
	insecureAuth  bool
	username      string
	password      string
	senderOptions func(b *testBundle) []Option
	// messagesPerConnection is the Sender's smtp.messages_per_connection,
	// serverLimit the server's (see backend.perConnection).
	messagesPerConnection, serverLimit int
}

func setup(t *testing.T, o setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{backend: &backend{perConnection: o.serverLimit}}
	srv := smtp.NewServer(b.backend)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.insecureAuth
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second

	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener = countingListener{Listener: tcp, b: b.backend}
	if o.serverTLS || o.mode == config.TLSImplicit {
		var cert tls.Certificate
		cert, b.ca = selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if o.mode == config.TLSImplicit {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	b.cfg = config.SMTP{
		Host:     "127.0.0.1",
		Port:     ln.Addr().(*net.TCPAddr).Port,
		Username: o.username,
		Password: config.NewSecret(o.password),
		From:     "UBND xã Tân Phú <canhbao@ubnd.example.vn>",
		TLS:      o.mode,
		Timeout:  5 * time.Second,

		MessagesPerConnection: o.messagesPerConnection,
	}
	var opts []Option
	if o.senderOptions != nil {
		opts = o.senderOptions(b)
	}
	b.sender, err = New(b.cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trustCA(b *testBundle) []Option {
	return []Option{WithTLSConfig(&tls.Config{RootCAs: b.ca, MinVersion: tls.VersionTLS12})}
}

// selfSigned makes a certificate for 127.0.0.1 that is its own CA.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dvcwatch test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func message(t *testing.T, to ...string) Message {
	t.Helper()
	subject, text, html, err := Render(digest())
	if err != nil {
		t.Fatal(err)
	}
	return Message{
		To: to, Subject: subject, Text: text, HTML: html,
		MessageID: "notif-42",
		Headers:   map[string]string{"X-Dvcwatch-Notification": "42"},
	}
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     setupOpts
		wantTLS  bool
		wantAuth string
	}{
		{"none without auth", setupOpts{mode: config.TLSNone}, false, ""},
		// go-smtp refuses AUTH over a plain connection unless told otherwise;
		// the sender allows it only to localhost.
		{"none with auth", setupOpts{mode: config.TLSNone, insecureAuth: true, username: testUser, password: testPassword}, false, testUser},
		{"starttls with auth", setupOpts{mode: config.TLSStartTLS, serverTLS: true, username: testUser, password: testPassword, senderOptions: trustCA}, true, testUser},
		{"implicit tls with auth", setupOpts{mode: config.TLSImplicit, username: testUser, password: testPassword, senderOptions: trustCA}, true, testUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opts)
			m := message(t, "binh@ubnd.example.vn")
			if err := b.sender.Send(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			got := b.backend.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.tls != tt.wantTLS || r.auth != tt.wantAuth {
				t.Errorf("tls=%v auth=%q, want tls=%v auth=%q", r.tls, r.auth, tt.wantTLS, tt.wantAuth)
			}
			if r.from != "canhbao@ubnd.example.vn" || len(r.to) != 1 || r.to[0] != "binh@ubnd.example.vn" {
				t.Errorf("envelope from %q to %q", r.from, r.to)
			}
			checkMessage(t, r.data, m)
		})
	}
}

// checkMessage parses what the server received as a mail client would.
func checkMessage(t *testing.T, data []byte, want Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != want.Subject {
		t.Errorf("Subject = %q, want %q", subject, want.Subject)
	}
	if got := msg.Header.Get("Message-ID"); got != "<notif-42@ubnd.example.vn>" {
		t.Errorf("Message-ID = %q", got)
	}
	if got := msg.Header.Get("X-Dvcwatch-Notification"); got != "42" {
		t.Errorf("X-Dvcwatch-Notification = %q", got)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "UBND xã Tân Phú" {
		t.Errorf("From = %v (%v)", from, err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", mediaType, err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, ctParams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(ctParams["charset"], "utf-8") {
			t.Errorf("%s charset %q", ct, ctParams["charset"])
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		parts[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	if parts["text/plain"] != want.Text {
		t.Errorf("text/plain part differs:\n%s", parts["text/plain"])
	}
	if parts["text/html"] != want.HTML {
		t.Errorf("text/html part differs:\n%s", parts["text/html"])
	}
}

func TestSendRejected(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: config.TLSNone})
	err := b.sender.Send(t.Context(), message(t, "unknown@ubnd.example.vn"))
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("got %v, want ErrRejected", err)
	}
	if !strings.Contains(err.Error(), "550") || !strings.Contains(err.Error(), "unknown@ubnd.example.vn") {
		t.Errorf("error %q should name the reply and the recipient", err)
	}
	if n := len(b.backend.received()); n != 0 {
		t.Errorf("server received %d messages", n)
	}
}

func TestSendTransient(t *testing.T) {
	t.Parallel()

	t.Run("4xx recipient", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mode: config.TLSNone})
		err := b.sender.Send(t.Context(), message(t, "busy@ubnd.example.vn"))
		if err == nil || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "451") {
			t.Fatalf("got %v, want a transient 451", err)
		}
	})

	t.Run("server down", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close() // nothing listens there now
		s, err := New(config.SMTP{Host: "127.0.0.1", Port: port, From: "a@b.vn", TLS: config.TLSNone, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(t.Context(), message(t, "binh@ubnd.example.vn"))
		if err == nil || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) {
			t.Fatalf("got %v, want a transient error naming the server", err)
		}
	})

	t.Run("starttls not offered", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mode: config.TLSNone})
		b.cfg.TLS = config.TLSStartTLS
		s, err := New(b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(t.Context(), message(t, "binh@ubnd.example.vn"))
		if err == nil || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("got %v, want a transient STARTTLS error", err)
		}
		if n := len(b.backend.received()); n != 0 {
			t.Errorf("sent %d messages in clear", n)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mode: config.TLSStartTLS, serverTLS: true})
		err := b.sender.Send(t.Context(), message(t, "binh@ubnd.example.vn"))
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &uerr) || errors.Is(err, ErrRejected) {
			t.Fatalf("got %v, want an unknown-authority error", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{mode: config.TLSStartTLS, serverTLS: true, username: testUser, password: "wrong-" + testPassword, senderOptions: trustCA})
		err := b.sender.Send(t.Context(), message(t, "binh@ubnd.example.vn"))
		if err == nil || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "535") {
			t.Fatalf("got %v, want a transient 535", err)
		}
		if strings.Contains(err.Error(), testPassword) {
			t.Errorf("error reveals the password: %v", err)
		}
	})
}

// silentServer accepts connections and never answers, like a hung relay.
func silentServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	port := silentServer(t)
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: port, From: "a@b.vn", TLS: config.TLSNone, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(t.Context(), message(t, "binh@ubnd.example.vn"))
	if err == nil || errors.Is(err, ErrRejected) {
		t.Fatalf("got %v, want a transient timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", d)
	}
}

func TestSendContextCancelled(t *testing.T) {
	t.Parallel()
	port := silentServer(t)
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: port, From: "a@b.vn", TLS: config.TLSNone, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, message(t, "binh@ubnd.example.vn"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRejected) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v after its context ended", d)
	}
}

func TestNewInvalidConfig(t *testing.T) {
	t.Parallel()
	ok := config.SMTP{Host: "mail.example.vn", Port: 587, From: "a@b.vn", TLS: config.TLSStartTLS}
	tests := []struct {
		name   string
		modify func(*config.SMTP)
		want   string
	}{
		{"host", func(c *config.SMTP) { c.Host = "" }, "smtp.host"},
		{"port", func(c *config.SMTP) { c.Port = 0 }, "smtp.port"},
		{"tls", func(c *config.SMTP) { c.TLS = "ssl" }, "smtp.tls"},
		{"from", func(c *config.SMTP) { c.From = "not an address" }, "smtp.from"},
		{"password alone", func(c *config.SMTP) { c.Password = config.NewSecret(testPassword) }, "smtp.password"},
	}
	for _, tt := range tests {
		c := ok
		tt.modify(&c)
		_, err := New(c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error naming %s", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), testPassword) {
			t.Errorf("%s: error reveals the password", tt.name)
		}
	}
}

func TestSendInvalidMessage(t *testing.T) {
	t.Parallel()
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: 25, From: "a@b.vn", TLS: config.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]Message{
		"no recipient":      {Subject: "x", Text: "x"},
		"bad address":       {To: []string{"not an address"}, Text: "x"},
		"no body":           {To: []string{"a@b.vn"}},
		"subject injection": {To: []string{"a@b.vn"}, Subject: "x\r\nBcc: c@d.vn", Text: "x"},
		"reserved header":   {To: []string{"a@b.vn"}, Text: "x", Headers: map[string]string{"bcc": "c@d.vn"}},
		"header injection":  {To: []string{"a@b.vn"}, Text: "x", Headers: map[string]string{"X-A": "1\nBcc: c@d.vn"}},
	}
	for name, m := range tests {
		err := s.Send(t.Context(), m)
		if !errors.Is(err, ErrInvalidMessage) || errors.Is(err, ErrRejected) {
			t.Errorf("%s: got %v, want ErrInvalidMessage", name, err)
		}
	}
}

// TestSendPossiblySent: a server that takes the whole message but answers
// its end only after the timeout may have delivered it; the error says so
// (ErrPossiblySent), so that it is not sent again blindly, and the server
// does receive the one message.
func TestSendPossiblySent(t *testing.T) {
	t.Parallel()
	sink, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	sink.Hold() // DATA's end waits: the message is written, its reply is not sent
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: sink.Port(), From: "a@b.vn", TLS: config.TLSNone,
		Timeout: 5 * time.Second, DataTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), message(t, "binh@ubnd.example.vn"))
	if !errors.Is(err, ErrPossiblySent) || errors.Is(err, ErrRejected) {
		t.Fatalf("got %v, want ErrPossiblySent", err)
	}
	sink.Release()
	deadline := time.Now().Add(5 * time.Second)
	for sink.Count() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := sink.Count(); n != 1 {
		t.Errorf("the server holds %d messages, want the one it was slow to answer", n)
	}
}

// TestSendSlowEndOfData: a server that answers the end of the message after
// smtp.timeout but within smtp.data_timeout delivered it, once; the
// exchanges before it still time out after smtp.timeout (TestSendTimeout).
func TestSendSlowEndOfData(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	sink.DelayReply(1500 * time.Millisecond)
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: sink.Port(), From: "a@b.vn", TLS: config.TLSNone,
		Timeout: 500 * time.Millisecond, DataTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), message(t, "binh@ubnd.example.vn")); err != nil {
		t.Fatalf("a reply within smtp.data_timeout: %v", err)
	}
	if n := sink.Count(); n != 1 {
		t.Errorf("the server holds %d messages, want 1", n)
	}
}

// TestSendRecordsBeforeQuit: record runs once the server accepted the
// message, before QUIT; a QUIT the server never answers afterwards is no
// failure, and record's own error is what SendAndRecord returns.
func TestSendRecordsBeforeQuit(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	sink.DropAtQuit()
	// A connection per message: each is followed by QUIT.
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: sink.Port(), From: "a@b.vn", TLS: config.TLSNone, Timeout: 5 * time.Second,
		MessagesPerConnection: 1})
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	err = s.SendAndRecord(t.Context(), message(t, "binh@ubnd.example.vn"), func() error {
		records++
		if n := sink.Count(); n != 1 {
			t.Errorf("record ran with %d messages accepted, want 1", n)
		}
		return nil
	})
	if err != nil || records != 1 {
		t.Fatalf("QUIT dropped after acceptance: got %v with %d records, want nil and 1", err, records)
	}
	boom := errors.New("database down")
	err = s.SendAndRecord(t.Context(), message(t, "binh@ubnd.example.vn"), func() error { return boom })
	if !errors.Is(err, boom) || errors.Is(err, ErrPossiblySent) {
		t.Errorf("got %v, want record's error", err)
	}
	rejected := 0
	sink.Reject("unknown@ubnd.example.vn")
	err = s.SendAndRecord(t.Context(), message(t, "unknown@ubnd.example.vn"), func() error { rejected++; return nil })
	if !errors.Is(err, ErrRejected) || rejected != 0 {
		t.Errorf("a rejected message: got %v and %d records, want ErrRejected and none", err, rejected)
	}
}

func startSink(t *testing.T) *mailcatch.Catcher {
	t.Helper()
	sink, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	return sink
}
