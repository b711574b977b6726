package mailcatch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/notify/email"
)

func TestCatcher(t *testing.T) {
	c, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := email.New(config.SMTP{Host: "127.0.0.1", Port: c.Port(), From: "canhbao@x.example", TLS: config.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(to string) email.Message {
		return email.Message{To: []string{to}, Subject: "Thử", Text: "xin chào", MessageID: "m1", Headers: map[string]string{"X-Test": "1"}}
	}
	ctx := context.Background()
	if err := s.Send(ctx, msg("a@x.example")); err != nil {
		t.Fatal(err)
	}
	c.Reject("b@x.example")
	if err := s.Send(ctx, msg("b@x.example")); !errors.Is(err, email.ErrRejected) {
		t.Errorf("rejected address: err = %v, want ErrRejected", err)
	}
	if c.RcptCount("b@x.example") != 1 {
		t.Errorf("RCPT for b counted %d times", c.RcptCount("b@x.example"))
	}

	// A client that gives up while held at RCPT leaves no message behind.
	c.HoldRecipients()
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Send(hctx, msg("c@x.example")) }()
	<-c.DataStarted()
	cancel()
	if err := <-done; err == nil {
		t.Error("a cancelled send reported success")
	}
	c.Release()
	if err := s.Send(ctx, msg("d@x.example")); err != nil {
		t.Fatal(err)
	}

	got := c.Messages()
	if len(got) != 2 || got[0].To[0] != "a@x.example" || got[1].To[0] != "d@x.example" {
		t.Fatalf("messages: %+v", got)
	}
	if got[0].Header.Get("X-Test") != "1" || got[0].Header.Get("Subject") == "" {
		t.Errorf("headers not parsed: %v", got[0].Header)
	}
	if len(got[0].Raw) == 0 {
		t.Error("the message's raw bytes were not kept")
	}

	// Headers only: the next message is counted and its header read, its
	// bytes dropped.
	c.KeepHeadersOnly()
	if err := s.Send(ctx, msg("e@x.example")); err != nil {
		t.Fatal(err)
	}
	got = c.Messages()
	if c.Count() != 3 || got[2].Header.Get("X-Test") != "1" || got[2].Raw != nil || len(got[0].Raw) == 0 {
		t.Errorf("after KeepHeadersOnly: %d messages, the last's header %v and %d raw bytes, the first's %d",
			c.Count(), got[2].Header, len(got[2].Raw), len(got[0].Raw))
	}
}

// TestDownUpAcceptDelay: a catcher closed and up again serves on the same
// port with its messages kept; an address refused and accepted again gets
// through; a message answered late is accepted though its sender gave up.
func TestDownUpAcceptDelay(t *testing.T) {
	c, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(timeout time.Duration, to string) error {
		s, err := email.New(config.SMTP{Host: "127.0.0.1", Port: c.Port(), From: "canhbao@x.example", TLS: config.TLSNone,
			Timeout: timeout, DataTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(context.Background(), email.Message{To: []string{to}, Subject: "s", Text: "t", MessageID: "m-" + to})
	}
	if err := send(5*time.Second, "a@x.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := send(5*time.Second, "b@x.example"); err == nil {
		t.Fatal("sent to a closed catcher")
	}
	if err := c.Up(); err != nil {
		t.Fatal(err)
	}
	c.Reject("b@x.example")
	c.Accept("b@x.example")
	if err := send(5*time.Second, "b@x.example"); err != nil {
		t.Fatalf("after Up and Accept: %v", err)
	}
	c.DelayReply(1500 * time.Millisecond)
	if err := send(500*time.Millisecond, "c@x.example"); err == nil {
		t.Error("a reply delayed past the sender's timeout came in time")
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.Count() < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	var to []string
	for _, m := range c.Messages() {
		to = append(to, m.To[0])
	}
	if fmt.Sprint(to) != "[a@x.example b@x.example c@x.example]" {
		t.Errorf("accepted %v, want a, b and the late-answered c", to)
	}
}
