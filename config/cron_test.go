package config_test

import (
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch/config"
)

// TestCheckCronRefuses: what robfig/cron would panic on, or would silently
// read as something else, is an error that quotes the expression.
func TestCheckCronRefuses(t *testing.T) {
	for expr, want := range map[string]string{
		"TZ=":                     "CRON_TZ=Zone must name a zone and be followed by a space and the schedule",
		"CRON_TZ=":                "CRON_TZ=Zone must name a zone and be followed by a space and the schedule",
		"CRON_TZ= * * * * *":      "CRON_TZ=Zone must name a zone",
		"TZ=Asia/Ho_Chi_Minh":     "followed by a space and the schedule",
		"@every 1ns":              "@every takes 1s or more",
		"@every -5m":              "@every takes 1s or more",
		"CRON_TZ=UTC @every 10ms": "@every takes 1s or more",
		"*/5 * *":                 "expected exactly 5 fields, found 3",
	} {
		err := config.CheckCron(expr)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+expr+`"`) {
			t.Errorf("CheckCron(%q) = %v, want it to quote the expression and say %q", expr, err, want)
		}
	}
	for _, ok := range []string{"@every 1s", "@every 15m", "CRON_TZ=Asia/Ho_Chi_Minh 0 7 1 * *", "TZ=UTC */5 * * * *", "@hourly"} {
		if err := config.CheckCron(ok); err != nil {
			t.Errorf("CheckCron(%q) = %v, want it accepted", ok, err)
		}
	}
}

// FuzzCheckCron: whatever an operator types (in the configuration or the
// admin API's schedule editor), checking it never panics.
func FuzzCheckCron(f *testing.F) {
	for _, seed := range []string{"TZ=", "CRON_TZ=", "CRON_TZ=Asia/Ho_Chi_Minh 30 7 * * 1-5", "@every 1ns", "@daily", "*/5 * * * *", "TZ= @every"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_ = config.CheckCron(expr)
	})
}
