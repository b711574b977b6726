package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckWithoutSecrets: with --no-secrets the example passes with
// no DVCWATCH_ variable set and lists the secrets it needs, where the
// default check fails naming them; every other problem is still found, a
// bare TZ= among them.
func TestConfigCheckWithoutSecrets(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "DVCWATCH_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	const example = "../../config/dvcwatch.example.yaml"
	_, errOut, status := run(t, "config", "check", "--config", example)
	if status != exitUsage || !strings.Contains(errOut, "environment variable DVCWATCH_ACK_KEY is not set") {
		t.Errorf("default check without the secrets: status %d, stderr %q; want %d naming them", status, errOut, exitUsage)
	}

	out, errOut, status := run(t, "config", "check", "--config", example, "--no-secrets")
	if status != 0 {
		t.Fatalf("--no-secrets: status %d, stdout %q, stderr %q; want 0", status, out, errOut)
	}
	for _, want := range []string{
		example + ": valid but for its secrets",
		"connectors[0].password: environment variable DVCWATCH_DVCQG_PASSWORD\n",
		"connectors[1].password: environment variable DVCWATCH_ONESTOP_PASSWORD\n",
		"notify.ack_key: environment variable DVCWATCH_ACK_KEY\n",
		"smtp.password: environment variable DVCWATCH_SMTP_PASSWORD\n",
		"admin.tokens[0].token: environment variable DVCWATCH_ADMIN_TOKEN_VANPHONG\n",
		"admin.tokens[1].token: environment variable DVCWATCH_ADMIN_TOKEN_IT\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--no-secrets output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "placeholder") {
		t.Errorf("--no-secrets shows its placeholders:\n%s", out)
	}

	cfg := filepath.Join(t.TempDir(), "dvcwatch.yaml")
	write(t, cfg, minimalConfig+`notify:
  ack_key: ${DVCWATCH_ACK_KEY}
schedules:
  - {name: detect, cron: "TZ=", job: detect}
`)
	for _, args := range [][]string{{}, {"--no-secrets"}} {
		_, errOut, status := run(t, append([]string{"config", "check", "--config", cfg}, args...)...)
		want := cfg + `:13: schedules[0].cron: invalid cron expression "TZ=": CRON_TZ=Zone must name a zone and be followed by a space and the schedule`
		if status != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("config check %v of a bare TZ=: status %d, stderr %q; want %d and %q", args, status, errOut, exitUsage, want)
		}
	}
}
