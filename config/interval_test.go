package config

import (
	"strings"
	"testing"
	"time"
)

func TestShortestInterval(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]time.Duration{
		"@every 5s":                          5 * time.Second,
		"@every 1500ms":                      time.Second, // what robfig/cron runs
		"CRON_TZ=UTC @every 2m":              2 * time.Minute,
		"* * * * *":                          time.Minute,
		"*/15 6-18 * * 1-6":                  15 * time.Minute,
		"0,1 3 * * *":                        time.Minute,
		"@hourly":                            time.Hour,
		"30 7 * * 1-5":                       24 * time.Hour,
		"0 7 1 * *":                          24 * time.Hour, // as if every day fired
		"50 23 * * *":                        24 * time.Hour,
		"55 23,0 * * *":                      time.Hour, // 23:55, then 00:55
		"CRON_TZ=Asia/Ho_Chi_Minh 5 * * * *": time.Hour,
	} {
		if got, err := ShortestInterval(expr); err != nil || got != want {
			t.Errorf("ShortestInterval(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
}

// TestMinInterval: every cron expression of the file keeps to
// scheduler.min_interval (1m unless set), and a refusal names the field and
// the minimum.
func TestMinInterval(t *testing.T) {
	t.Parallel()
	const schedules = `
schedules:
  - {name: detect, cron: "@every 5s", job: detect}
notify:
  digest_cron: "*/1 7 * * *"
`
	_, err := Parse([]byte(minimal+schedules), "dvcwatch.yaml")
	for _, want := range []string{
		`dvcwatch.yaml:13: schedules[0].cron: cron expression "@every 5s" fires every 5s, more often than scheduler.min_interval (1m) allows`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("with the default minimum: %v\nwant %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "digest_cron") {
		t.Errorf("a cron of one minute is refused with the default minimum of 1m: %v", err)
	}

	c, err := Parse([]byte(minimal+schedules+"scheduler: {min_interval: 1s}\n"), "dvcwatch.yaml")
	if err != nil || c.Scheduler.MinInterval != time.Second {
		t.Errorf("with min_interval 1s: %v, %v; want valid", c, err)
	}
	_, err = Parse([]byte(minimal+schedules+"scheduler: {min_interval: 2m}\n"), "dvcwatch.yaml")
	if want := `notify.digest_cron: cron expression "*/1 7 * * *" fires every 1m, more often than scheduler.min_interval (2m) allows`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("with min_interval 2m: %v\nwant %s", err, want)
	}
	_, err = Parse([]byte(minimal+"scheduler: {min_interval: 100ms}\n"), "dvcwatch.yaml")
	if want := "scheduler.min_interval: must be 1s or more, found 100ms"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("with min_interval 100ms: %v\nwant %s", err, want)
	}
}

// TestSecureCookiesDefault: the session cookie is Secure unless the console
// listens on the loopback without a TLS proxy in front; written, the field
// wins.
func TestSecureCookiesDefault(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		admin string
		want  bool
	}{
		{"  listen: 127.0.0.1:8080\n", false},
		{"  listen: localhost:8080\n", false},
		{"  listen: '[::1]:8080'\n", false},
		{"  listen: 127.0.0.1:8080\n  public_url: https://canhbao.example\nnotify: {ack_key: 0123456789abcdef0123456789abcdef}\n", true},
		{"  listen: 0.0.0.0:8080\n", true},
		{"  listen: :8080\n", true},
		{"  listen: 10.0.0.5:8080\n", true},
		{"  listen: 0.0.0.0:8080\n  secure_cookies: false\n", false},
		{"  listen: 127.0.0.1:8080\n  secure_cookies: true\n", true},
	} {
		cfg, err := Parse([]byte(minimal+c.admin), "dvcwatch.yaml")
		if err != nil {
			t.Fatalf("%q: %v", c.admin, err)
		}
		if cfg.Admin.SecureCookies != c.want {
			t.Errorf("%q: secure_cookies %t, want %t", c.admin, cfg.Admin.SecureCookies, c.want)
		}
	}
}
