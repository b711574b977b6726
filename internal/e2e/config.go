package e2e

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dvcwatch/dvcwatch/internal/portalsim"
)

// Setup is what differs between the end-to-end tests' configurations.
type Setup struct {
	DSN, SimURL       string
	RedisAddr         string // empty: 127.0.0.1:6379
	RedisDB, SMTPPort int
	PageSize          int
	ConnectorTimeout  string // empty: the default
	Schedules         string // YAML list items
	SMTPTimeout       string
	SMTPDataTimeout   string // empty: SMTPTimeout
	Admin             string // the admin section's listen line, if any
	Token, Shutdown   string
	LogLevel, LogFmt  string
	Password          string // the one-stop account's; empty: the simulator's
	Admins            string // notify.admins, a YAML flow list; empty: none
}

// WriteConfig writes a configuration for the simulator's commune: its people
// and procedures, the one-stop connector, the setup's schedules, mail to
// 127.0.0.1 at any hour (the tests run at any time of day).
func WriteConfig(t testing.TB, sim *portalsim.Sim, e Setup) string {
	t.Helper()
	people, err := sim.Directory().ConfigYAML()
	if err != nil {
		t.Fatal(err)
	}
	timeout := ""
	if e.ConnectorTimeout != "" {
		timeout = "    timeout: " + e.ConnectorTimeout + "\n"
	}
	text := people + fmt.Sprintf(`database:
  driver: postgres
  dsn: %q
redis:
  addr: %s
  db: %d
connectors:
  - name: onestop
    kind: onestop
    base_url: %s
    username: %s
    password: %s
    rate_limit: 1000
    page_size: %d
%sschedules:
%sscheduler:
  min_interval: 1s # the tests' schedules tick every second or so
notify:
  dossier_url: https://motcua.example/ho-so/{code}
  office_hours_only: false
  admins: %s
smtp:
  host: 127.0.0.1
  port: %d
  from: canhbao@hoabinh.example
  tls: none
  timeout: %s
  data_timeout: %s
admin:
%s  tokens:
    - {name: ops, role: admin, token: %s}
shutdown_timeout: %s
log:
  level: %s
  format: %s
`, e.DSN, cmp.Or(e.RedisAddr, "127.0.0.1:6379"), e.RedisDB, e.SimURL, portalsim.DefaultUsername,
		cmp.Or(e.Password, portalsim.DefaultPassword), e.PageSize, timeout, e.Schedules,
		cmp.Or(e.Admins, "[]"), e.SMTPPort, e.SMTPTimeout, cmp.Or(e.SMTPDataTimeout, e.SMTPTimeout), e.Admin, e.Token, e.Shutdown, e.LogLevel, e.LogFmt)
	path := filepath.Join(t.TempDir(), "dvcwatch.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
