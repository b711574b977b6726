package mailcatch_test

import (
	"context"
	"errors"
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
}
