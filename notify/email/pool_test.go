package email

import (
	"bytes"
	"net/mail"
	"strconv"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
)

// sendN sends n messages in turn, each with its own Message-ID.
func sendN(t *testing.T, s *Sender, n int) {
	t.Helper()
	for i := range n {
		m := message(t, "binh@ubnd.example.vn")
		m.MessageID = "notif-" + strconv.Itoa(i)
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSendKeepsTheConnection: messages in turn share a connection, up to
// smtp.messages_per_connection each, over STARTTLS and AUTH negotiated
// once per connection; Close ends the one kept.
func TestSendKeepsTheConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: config.TLSStartTLS, serverTLS: true, username: testUser, password: testPassword,
		senderOptions: trustCA, messagesPerConnection: 2})
	sendN(t, b.sender, 5)
	got := b.backend.received()
	if len(got) != 5 {
		t.Fatalf("server received %d messages, want 5", len(got))
	}
	for i, r := range got {
		if !r.tls || r.auth != testUser {
			t.Errorf("message %d: tls=%v auth=%q, want every message over TLS as %s", i, r.tls, r.auth, testUser)
		}
	}
	// 2 + 2 + 1: the first two connections closed after their second
	// message, the third kept.
	waitFor(t, "two connections closed", func() bool { _, closed := b.backend.connections(); return closed == 2 })
	if opened, _ := b.backend.connections(); opened != 3 {
		t.Errorf("%d connections for 5 messages at 2 per connection, want 3", opened)
	}
	if err := b.sender.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kept connection closed", func() bool { _, closed := b.backend.connections(); return closed == 3 })
	// Closed, the Sender still sends, a connection per message.
	sendN(t, b.sender, 1)
	waitFor(t, "the connection after Close closed", func() bool { _, closed := b.backend.connections(); return closed == 4 })
}

// TestSendIdleConnectionClosed: a connection left unused for the idle
// limit is closed; the next message opens a new one.
func TestSendIdleConnectionClosed(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: config.TLSNone})
	b.sender.idleLimit = 100 * time.Millisecond
	sendN(t, b.sender, 1)
	waitFor(t, "the idle connection closed", func() bool { _, closed := b.backend.connections(); return closed == 1 })
	sendN(t, b.sender, 1)
	if opened, _ := b.backend.connections(); opened != 2 {
		t.Errorf("%d connections, want a new one after the idle one closed", opened)
	}
	if n := len(b.backend.received()); n != 2 {
		t.Errorf("server received %d messages, want 2", n)
	}
}

// TestSendKeptConnectionRefused: a server that refuses MAIL on a kept
// connection (past its own limit, 421) gets the message on a new
// connection, once.
func TestSendKeptConnectionRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: config.TLSNone, serverLimit: 2, messagesPerConnection: 20})
	sendN(t, b.sender, 5)
	if n := len(b.backend.received()); n != 5 {
		t.Errorf("server received %d messages, want 5", n)
	}
	if opened, _ := b.backend.connections(); opened != 3 {
		t.Errorf("%d connections for 5 messages at the server's 2 per connection, want 3", opened)
	}
}

// TestSendAfterServerRestart: connections kept to a server that restarted
// are dead; the next message goes on a new one and arrives once.
func TestSendAfterServerRestart(t *testing.T) {
	t.Parallel()
	sink := startSink(t)
	s, err := New(config.SMTP{Host: "127.0.0.1", Port: sink.Port(), From: "a@b.vn", TLS: config.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sendN(t, s, 2)
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Up(); err != nil {
		t.Fatal(err)
	}
	sendN(t, s, 2)
	if n := sink.Count(); n != 4 {
		t.Errorf("the server holds %d messages, want 4", n)
	}
}

// TestSendConcurrentlyOnKeptConnections: senders at once share kept
// connections without a message lost or sent twice.
func TestSendConcurrentlyOnKeptConnections(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: config.TLSNone, messagesPerConnection: 10})
	const senders, each = 4, 25
	errs := make(chan error, senders*each)
	for g := range senders {
		go func() {
			for i := range each {
				m := message(t, "binh@ubnd.example.vn")
				m.MessageID = "notif-" + strconv.Itoa(g*each+i)
				errs <- b.sender.Send(t.Context(), m)
			}
		}()
	}
	for range senders * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, r := range b.backend.received() {
		id := messageID(t, r.data)
		if seen[id] {
			t.Errorf("message %s received twice", id)
		}
		seen[id] = true
	}
	if len(seen) != senders*each {
		t.Errorf("server received %d distinct messages, want %d", len(seen), senders*each)
	}
	if opened, _ := b.backend.connections(); opened < senders*each/10 || opened > senders*each/2 {
		t.Errorf("%d connections for %d messages at 10 per connection", opened, senders*each)
	}
}

// messageID returns the Message-ID of a received message.
func messageID(t *testing.T, data []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header.Get("Message-ID")
}
