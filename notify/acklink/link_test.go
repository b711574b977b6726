package acklink_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
)

func TestLinks(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{
		Admin:  config.Admin{PublicURL: "https://canhbao.x.example/dvcwatch"},
		Notify: config.Notify{AckKey: config.NewSecret(string(testKey)), AckValidFor: 48 * time.Hour},
	}
	l, err := acklink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	refs := testClaim().Breaches
	link := l.Link("nguyen.van.a", refs, mailedAt)
	token, ok := strings.CutPrefix(link, "https://canhbao.x.example/dvcwatch/ack/")
	if !ok {
		t.Fatalf("Link = %q, want it under admin.public_url + /ack/", link)
	}
	c, err := l.Verify(token, mailedAt.Add(47*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Recipient != "nguyen.van.a" || !reflect.DeepEqual(c.Breaches, refs) || !c.Expires.Equal(mailedAt.Add(48*time.Hour)) {
		t.Errorf("claim = %+v", c)
	}
	if _, err := acklink.Verify(testKey, token, mailedAt.Add(48*time.Hour)); err == nil {
		t.Error("the link works past ack_valid_for")
	}
	if got := l.Link("nguyen.van.a", nil, mailedAt); got != "" {
		t.Errorf("Link without breaches = %q, want no link", got)
	}
}

func TestLinksOff(t *testing.T) {
	t.Parallel()
	l, err := acklink.New(&config.Config{})
	if err != nil || l != nil {
		t.Fatalf("New without admin.public_url = %v, %v; want nil, nil", l, err)
	}
	if got := l.Link("nguyen.van.a", testClaim().Breaches, mailedAt); got != "" {
		t.Errorf("nil Links: Link = %q, want \"\"", got)
	}
}

func TestNewLinksRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base string
		key  []byte
		d    time.Duration
	}{
		{"canhbao.x.example", testKey, time.Hour},
		{"https://canhbao.x.example?x=1", testKey, time.Hour},
		{"https://canhbao.x.example", []byte("short"), time.Hour},
		{"https://canhbao.x.example", testKey, 0},
	} {
		if _, err := acklink.NewLinks(tc.base, tc.key, tc.d); err == nil {
			t.Errorf("NewLinks(%q, %d-byte key, %s): want an error", tc.base, len(tc.key), tc.d)
		}
	}
}

func TestRefs(t *testing.T) {
	t.Parallel()
	alert := func(id int64, sev dvcwatch.Severity) dvcwatch.PendingAlert {
		var a dvcwatch.PendingAlert
		a.Breach.ID, a.Breach.Severity = id, sev
		a.Severity = dvcwatch.SeverityInfo // when the alert was decided; the email tells the breach's own
		return a
	}
	got := acklink.Refs([]dvcwatch.PendingAlert{
		alert(7, dvcwatch.SeverityWarning), alert(3, dvcwatch.SeverityCritical), alert(7, dvcwatch.SeverityWarning),
	})
	want := []dvcwatch.BreachRef{{ID: 7, Severity: dvcwatch.SeverityWarning}, {ID: 3, Severity: dvcwatch.SeverityCritical}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Refs = %+v, want %+v", got, want)
	}
}
