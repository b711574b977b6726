package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// exampleEnv holds the secrets the example file reads from the environment.
var exampleEnv = map[string]string{
	"DVCWATCH_DVCQG_PASSWORD":       "dvcqg-password-1",
	"DVCWATCH_ONESTOP_PASSWORD":     "onestop-password-2",
	"DVCWATCH_SMTP_PASSWORD":        "smtp-password-3",
	"DVCWATCH_ADMIN_TOKEN_VANPHONG": "vanphong-token-0123456789",
	"DVCWATCH_ADMIN_TOKEN_IT":       "it-admin-token-0123456789",
	"DVCWATCH_ACK_KEY":              "ack-key-0123456789abcdef0123456789abcdef",
}

func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// unsetenv removes name for the test; t.Setenv first, so it is restored after.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// sameAs reports each element of got that differs from the simulator's.
func sameAs[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d, the simulator has %d", what, len(got), len(want))
		return
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s[%d] = %+v, the simulator has %+v", what, i, got[i], want[i])
		}
	}
}

func TestExampleIsValid(t *testing.T) {
	setenv(t, exampleEnv)
	c, err := Load("dvcwatch.example.yaml")
	if err != nil {
		t.Fatalf("the example must be valid:\n%v", err)
	}

	if got := c.Connectors[0].Password.Reveal(); got != "dvcqg-password-1" {
		t.Errorf("connectors[0].password = %q, want the environment's value", got)
	}
	if got := c.SMTP.Password.Reveal(); got != "smtp-password-3" {
		t.Errorf("smtp.password = %q, want the environment's value", got)
	}
	if got := c.Admin.Tokens[1].Token.Reveal(); got != "it-admin-token-0123456789" {
		t.Errorf("admin.tokens[1].token = %q, want the environment's value", got)
	}
	onestop := c.Connectors[1]
	if onestop.Timeout != 30*time.Second || onestop.Burst != 1 || onestop.MaxRetries != 5 || onestop.AuthPath != "" {
		t.Errorf("onestop defaults not applied: %+v", onestop)
	}
	if got := c.Notify.Admins; !reflect.DeepEqual(got, []string{"it@hoabinh.example"}) {
		t.Errorf("notify.admins = %q", got)
	}
	if got := c.Connectors[1].BaseURL; got != "https://motcua.example" {
		t.Errorf("base_url = %q, want the trailing slash-free form", got)
	}
	if got, want := c.Agencies[0].OfficeHours, c.Calendar.OfficeHours; !reflect.DeepEqual(got, want) {
		t.Errorf("agency office hours = %q, want the calendar's %q", got, want)
	}

	wantSpecs := map[string]string{
		"sync-onestop": "CRON_TZ=Asia/Ho_Chi_Minh */15 6-18 * * 1-6",
		"sync-dvcqg":   "CRON_TZ=Asia/Ho_Chi_Minh 5 * * * *",
		"detect":       "CRON_TZ=Asia/Ho_Chi_Minh @every 15m",
	}
	for _, s := range c.Schedules {
		if _, err := cron.ParseStandard(s.Spec()); err != nil {
			t.Errorf("schedule %s: Spec() %q does not parse: %v", s.Name, s.Spec(), err)
		}
		if want, ok := wantSpecs[s.Name]; ok && s.Spec() != want {
			t.Errorf("schedule %s: Spec() = %q, want %q", s.Name, s.Spec(), want)
		}
	}
	if got, want := c.Notify.DigestSpec(), "CRON_TZ=Asia/Ho_Chi_Minh 30 7 * * 1-5"; got != want {
		t.Errorf("DigestSpec() = %q, want %q", got, want)
	}
}

func TestExampleNeedsItsSecrets(t *testing.T) {
	for name := range exampleEnv {
		unsetenv(t, name)
	}
	_, err := Load("dvcwatch.example.yaml")
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load() error = %v, want Problems", err)
	}
	want := []string{
		`connectors\[0\]\.password: environment variable DVCWATCH_DVCQG_PASSWORD is not set`,
		`connectors\[1\]\.password: environment variable DVCWATCH_ONESTOP_PASSWORD is not set`,
		`notify\.ack_key: environment variable DVCWATCH_ACK_KEY is not set`,
		`smtp\.password: environment variable DVCWATCH_SMTP_PASSWORD is not set`,
		`admin\.tokens\[0\]\.token: environment variable DVCWATCH_ADMIN_TOKEN_VANPHONG is not set`,
		`admin\.tokens\[1\]\.token: environment variable DVCWATCH_ADMIN_TOKEN_IT is not set`,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if re := regexp.MustCompile(`^dvcwatch\.example\.yaml:\d+: ` + w + `$`); !re.MatchString(ps[i].String()) {
			t.Errorf("problem %d = %q, want to match %s", i, ps[i], re)
		}
	}
}

// TestFixtures asserts the exact problems reported for each file under testdata.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string // nil for a valid file
	}{
		{"minimal.yaml", nil},
		{"relative-calendar.yaml", nil},
		{"empty.yaml", []string{
			"testdata/empty.yaml: file is empty; dvcwatch.example.yaml shows every section",
		}},
		{"comments-only.yaml", []string{
			"testdata/comments-only.yaml: file is empty; dvcwatch.example.yaml shows every section",
		}},
		{"list.yaml", []string{
			"testdata/list.yaml:1: the top level must be a mapping of sections (database:, connectors:, …), found a list",
		}},
		{"syntax.yaml", []string{
			"testdata/syntax.yaml:2: invalid YAML: did not find expected key",
		}},
		{"two-documents.yaml", []string{
			"testdata/two-documents.yaml:3: a second YAML document (---) is not allowed: dvcwatch reads one",
		}},
		{"duplicate-key.yaml", []string{
			`testdata/duplicate-key.yaml:3: database: mapping key "database" already defined at line 1`,
		}},
		{"typo-and-cron.yaml", []string{
			`testdata/typo-and-cron.yaml:12: schedules[0].conector: unknown field "conector" (did you mean "connector"?)`,
			`testdata/typo-and-cron.yaml:14: schedules[1].cron: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`,
		}},
		{"misplaced.yaml", []string{
			`testdata/misplaced.yaml:2: tokens: unknown field "tokens"`,
			`testdata/misplaced.yaml: admin.tokens: at least one token is required: the admin API refuses requests without one`,
		}},
		{"types.yaml", []string{
			`testdata/types.yaml:7: connectors[0].password: expected text, found a mapping`,
			`testdata/types.yaml:8: connectors[0].timeout: expected a duration such as "30s", "10m" or "24h", found "30"`,
			`testdata/types.yaml:9: connectors[0].rate_limit: expected a number, found "fast"`,
			`testdata/types.yaml:10: schedules: expected a list, found "sync every hour"`,
			`testdata/types.yaml:15: notify.office_hours_only: expected true or false, found "sometimes"`,
			`testdata/types.yaml:18: smtp.port: expected a whole number, found "abc"`,
			`testdata/types.yaml:23: loglevel: unknown field "loglevel"`,
		}},
		{"store.yaml", []string{
			`testdata/store.yaml:1: database.dsn: required`,
			`testdata/store.yaml:2: database.driver: unknown value "mysql" (want one of: sqlite, postgres)`,
			`testdata/store.yaml:4: redis.addr: invalid address "localhost": want host:port such as 127.0.0.1:8080`,
			`testdata/store.yaml:5: redis.db: must not be negative, found -1`,
			`testdata/store.yaml:15: shutdown_timeout: must be a positive duration such as "30s", found 0s`,
			`testdata/store.yaml:17: log.level: unknown value "verbose" (want one of: debug, info, warn, error)`,
			`testdata/store.yaml:18: log.format: unknown value "xml" (want one of: text, json)`,
		}},
		{"sentinel-conflicts.yaml", []string{
			`testdata/sentinel-conflicts.yaml:2: redis.addr: cannot be used with redis.sentinel: the sentinels tell the master's address; remove redis.addr`,
			`testdata/sentinel-conflicts.yaml:3: redis.embedded: cannot be used with redis.sentinel: remove one of them`,
			`testdata/sentinel-conflicts.yaml:4: redis.sentinel.master_name: required`,
			`testdata/sentinel-conflicts.yaml:6: redis.sentinel.addrs[0]: invalid address "sentinel-a": want host:port such as 127.0.0.1:8080`,
			`testdata/sentinel-conflicts.yaml:8: redis.sentinel.addrs[2]: duplicate "10.0.0.5:26379" (first at redis.sentinel.addrs[1])`,
		}},
		{"sentinel-no-addrs.yaml", []string{
			`testdata/sentinel-no-addrs.yaml:2: redis.sentinel.addrs: at least one sentinel address such as 10.0.0.5:26379 is required`,
		}},
		{"postgres-without-dsn.yaml", []string{
			`testdata/postgres-without-dsn.yaml:1: database.dsn: required`,
		}},
		{"connectors.yaml", []string{
			`testdata/connectors.yaml:2: connectors[0].agency_code: required`,
			`testdata/connectors.yaml:2: connectors[0].name: invalid name "DVCQG": use lower-case letters, digits, _ and -`,
			`testdata/connectors.yaml:4: connectors[0].base_url: invalid URL "dichvucong.example/api": want http:// or https:// and a host`,
			`testdata/connectors.yaml:5: connectors[0].auth_path: must start with /, found "api/auth"`,
			`testdata/connectors.yaml:8: connectors[0].page_size: applies to onestop connectors only: dvcqg has no paging`,
			`testdata/connectors.yaml:9: connectors[0].rate_limit: must be more than 0 requests per second, found 0`,
			`testdata/connectors.yaml:10: connectors[0].burst: must be at least 1, found 0`,
			`testdata/connectors.yaml:11: connectors[0].timeout: must be a positive duration such as "30s", found -1s`,
			`testdata/connectors.yaml:13: connectors[0].overlap: must be at least 0 and shorter than window (1h0m0s), found 2h0m0s`,
			`testdata/connectors.yaml:14: connectors[0].max_retries: must not be negative, found -1`,
			`testdata/connectors.yaml:15: connectors[0].mirror_of: unknown connector "motcua" (want one of: DVCQG, onestop, onestop)`,
			`testdata/connectors.yaml:16: connectors[0].max_lag: must be a positive duration such as "30s", found 0s`,
			`testdata/connectors.yaml:17: connectors[1].password: required`,
			`testdata/connectors.yaml:17: connectors[1].username: required`,
			`testdata/connectors.yaml:18: connectors[1].kind: unknown value "motcua" (want one of: dvcqg, onestop)`,
			`testdata/connectors.yaml:19: connectors[1].mirror_of: a connector cannot mirror itself`,
			`testdata/connectors.yaml:21: connectors[2].name: duplicate "onestop" (first at connectors[1].name)`,
			`testdata/connectors.yaml:23: connectors[2].base_url: invalid URL "ftp://motcua.example": want http:// or https:// and a host`,
			`testdata/connectors.yaml:26: connectors[2].page_size: must be at least 1, found 0`,
			`testdata/connectors.yaml:27: connectors[2].window: must be a positive duration such as "30s", found 0s`,
		}},
		{"schedules.yaml", []string{
			`testdata/schedules.yaml:8: schedules[0].connector: required for job "sync"`,
			`testdata/schedules.yaml:11: schedules[1].name: duplicate "sync" (first at schedules[0].name)`,
			`testdata/schedules.yaml:12: schedules[1].cron: invalid cron expression "CRON_TZ=Asia/Hanoi 0 * * * *": provided bad location Asia/Hanoi: unknown time zone Asia/Hanoi`,
			`testdata/schedules.yaml:14: schedules[1].connector: unknown connector "dvcqg" (want one of: onestop)`,
			`testdata/schedules.yaml:15: schedules[2].name: invalid name "Detect Hourly": use lower-case letters, digits, _ and -`,
			`testdata/schedules.yaml:16: schedules[2].cron: invalid cron expression "61 * * * *": end of range (61) above maximum (59): 61`,
			`testdata/schedules.yaml:18: schedules[2].connector: job "detect" takes no connector; only sync and reconcile do`,
			`testdata/schedules.yaml:20: schedules[3].cron: invalid cron expression "CRON_TZ=Asia/Ho_Chi_Minh": CRON_TZ=Zone must name a zone and be followed by a space and the schedule`,
			`testdata/schedules.yaml:21: schedules[3].job: unknown value "backup" (want one of: sync, detect, notify, digest, reconcile, report)`,
			`testdata/schedules.yaml:25: schedules[4].timezone: "UTC" contradicts the CRON_TZ=Asia/Ho_Chi_Minh of cron; keep one`,
			`testdata/schedules.yaml:27: schedules[5].cron: invalid cron expression "@fortnightly": unrecognized descriptor: @fortnightly`,
			`testdata/schedules.yaml:29: schedules[5].connector: reconcile compares a mirror with its source of truth: set mirror_of on connector "onestop"`,
			`testdata/schedules.yaml:30: schedules[5].timezone: unknown time zone "Mars/Olympus"`,
			`testdata/schedules.yaml:34: schedules[6].timezone: name a zone such as Asia/Ho_Chi_Minh: Local depends on the host`,
			`testdata/schedules.yaml:35: schedules[7].cron: required`,
			`testdata/schedules.yaml:35: schedules[7].job: required`,
		}},
		{"calendar.yaml", []string{
			`testdata/calendar.yaml:2: calendar.file: read calendar file: open testdata/no-such-calendar.yaml: no such file or directory`,
			`testdata/calendar.yaml:3: calendar.office_hours[1]: invalid office hours: session "7:30": want HH:MM-HH:MM, e.g. 07:30-11:30`,
			`testdata/calendar.yaml:3: calendar.office_hours[2]: invalid office hours: session "13:30-12:00": ends before it starts`,
			`testdata/calendar.yaml:3: calendar.office_hours[3]: invalid office hours: session "13:00-25:00": end: "25:00" is not a time of day (want HH:MM, 00:00–24:00)`,
			`testdata/calendar.yaml:4: calendar.cutoff: invalid cutoff: "5pm" is not a time of day (want HH:MM, 00:00–24:00)`,
			`testdata/calendar.yaml:8: agencies[0].office_hours: at least one range such as "07:30-11:30" is required`,
			`testdata/calendar.yaml:9: agencies[0].cutoff: invalid cutoff: "25:00" is not a time of day (want HH:MM, 00:00–24:00)`,
			`testdata/calendar.yaml:12: agencies[1].office_hours: office hours: session 11:00-12:00 starts before session 07:30-11:30 ends (want sessions in order, not overlapping)`,
		}},
		{"counting.yaml", []string{
			`testdata/counting.yaml:2: calendar.counting: unknown value "calendar_days" (want one of: dates, office_hours)`,
			`testdata/counting.yaml:6: agencies[0].counting: unknown value "Office_Hours" (did you mean "office_hours"? want one of: dates, office_hours)`,
			`testdata/counting.yaml:7: agencies[0].lateness: unknown value "seconds" (want one of: date, minute)`,
			`testdata/counting.yaml:10: agencies[1].counting: required`,
		}},
		{"agencies.yaml", []string{
			`testdata/agencies.yaml:7: agencies[0].departments[0].head: official "nguyen.van.a" has role "official", not department_head`,
			`testdata/agencies.yaml:10: agencies[0].departments[1].head: official "tran.thi.b" belongs to department "VHXH", not "KT"`,
			`testdata/agencies.yaml:13: agencies[0].departments[2].head: unknown official "le.van.c": list the head under officials of agency "X"`,
			`testdata/agencies.yaml:14: agencies[0].departments[3].code: duplicate "KT" (first at agencies[0].departments[1].code)`,
			`testdata/agencies.yaml:14: agencies[0].departments[3].head: required`,
			`testdata/agencies.yaml:14: agencies[0].departments[3].name: required`,
			`testdata/agencies.yaml:17: agencies[0].departments[4].head: official "pham.van.e" belongs to department "", not "TP"`,
			`testdata/agencies.yaml:18: agencies[0].officials: no official with role office: the HĐND–UBND office must learn of every delay`,
			`testdata/agencies.yaml:25: agencies[0].officials[1].email: invalid email address "Trần Thị B <tran.thi.b@x.example>": write the bare address, the name goes in name`,
			`testdata/agencies.yaml:28: agencies[0].officials[2].id: duplicate "nguyen.van.a" (first at agencies[0].officials[0].id)`,
			`testdata/agencies.yaml:28: agencies[0].officials[2].name: required`,
			`testdata/agencies.yaml:29: agencies[0].officials[2].email: invalid email address "not-an-address": missing '@' or angle-addr`,
			`testdata/agencies.yaml:30: agencies[0].officials[2].role: unknown value "chairman" (want one of: official, department_head, office, monitor)`,
			`testdata/agencies.yaml:31: agencies[0].officials[2].department: unknown department "QS" of agency "X"`,
			`testdata/agencies.yaml:32: agencies[0].officials[3].department: required for role department_head`,
			`testdata/agencies.yaml:36: agencies[1].code: duplicate "X" (first at agencies[0].code)`,
			`testdata/agencies.yaml:36: agencies[1].name: required`,
			`testdata/agencies.yaml:37: agencies[2].code: required`,
			`testdata/agencies.yaml:43: agencies[2].officials[0].department: unknown department "VHXH" of agency ""`,
		}},
		{"no-agencies.yaml", []string{
			`testdata/no-agencies.yaml: agencies: at least one agency is required: alerts need someone to go to`,
		}},
		{"procedures.yaml", []string{
			`testdata/procedures.yaml:3: procedures[1].code: duplicate "1.001193" (first at procedures[0].code)`,
			`testdata/procedures.yaml:3: procedures[1].limit: limit "5 ngày": unknown unit " ngày"; want a positive whole number and a unit: wd (working days), d (calendar days), h (working hours) or m (months), e.g. 5wd, 15d, 8h, 1m`,
			`testdata/procedures.yaml:4: procedures[2].code: required`,
			`testdata/procedures.yaml:4: procedures[2].limit: required`,
		}},
		{"detect.yaml", []string{
			`testdata/detect.yaml:5: detect.due_soon_hours: must be positive`,
			`testdata/detect.yaml:6: detect.due_soon_share: must be between 0 and 1, e.g. 0.8`,
			`testdata/detect.yaml:7: detect.escalate_after: "3d": use working days (wd) or working hours (h), e.g. 2wd`,
			`testdata/detect.yaml:8: detect.full_sweep_every: must be a positive duration such as "30s", found -1h0m0s`,
		}},
		{"notify.yaml", []string{
			`testdata/notify.yaml:5: notify.dossier_url: must contain {code}, where the dossier code goes`,
			`testdata/notify.yaml:6: notify.repeat_after: must be a positive duration such as "30s", found 0s`,
			`testdata/notify.yaml:8: notify.escalation[0].when.kinds[0]: unknown breach kind "Overdue" (did you mean "overdue"? want one of: due_soon, overdue, finished_late, no_apology, late_apology, new_date_missed, rescheduled_twice, supplemented_twice, late_supplement_request, step_overdue, due_beyond_limit, refused_late, not_received, not_synced, portal_mismatch)`,
			`testdata/notify.yaml:8: notify.escalation[0].when.min_severity: unknown value "urgent" (want one of: info, warning, critical)`,
			`testdata/notify.yaml:8: notify.escalation[0].when.overdue_more_than: limit "two days": want a positive whole number and a unit: wd (working days), d (calendar days), h (working hours) or m (months), e.g. 5wd, 15d, 8h, 1m`,
			`testdata/notify.yaml:9: notify.escalation[0].notify[1]: duplicate "official" (first at notify.escalation[0].notify[0])`,
			`testdata/notify.yaml:9: notify.escalation[0].notify[2]: unknown value "chairman" (want one of: official, department_head, office)`,
			`testdata/notify.yaml:10: notify.escalation[1].when.kinds: at least one breach kind is required`,
			`testdata/notify.yaml:11: notify.escalation[1].notify: at least one role is required`,
			`testdata/notify.yaml:12: notify.digest_cron: invalid cron expression "0 25 * * *": end of range (25) above maximum (23): 25`,
			`testdata/notify.yaml:15: notify.admins[1]: invalid email address "Quản trị <qt@x.example>": write the bare address, qt@x.example`,
			`testdata/notify.yaml:16: notify.admins[2]: duplicate "it@x.example" (first at notify.admins[0])`,
			`testdata/notify.yaml:17: notify.admins[3]: required`,
			`testdata/notify.yaml:18: notify.admins[4]: invalid email address "it.x.example": missing '@' or angle-addr`,
		}},
		{"notify-empty-escalation.yaml", []string{
			`testdata/notify-empty-escalation.yaml:5: notify.dossier_url: invalid URL "motcua.example/X": want http:// or https:// and a host`,
			`testdata/notify-empty-escalation.yaml:6: notify.escalation: at least one rule is required`,
			`testdata/notify-empty-escalation.yaml:7: notify.digest_cron: required`,
		}},
		{"smtp-shutdown.yaml", []string{
			`testdata/smtp-shutdown.yaml:6: smtp.timeout: must be shorter than shutdown_timeout (25s), found 30s: a delivery cut off at shutdown may have been sent already, and would be sent again`,
		}},
		{"smtp-data-timeout.yaml", []string{
			`testdata/smtp-data-timeout.yaml:4: notify.delivery_workers: 0: want 1 to 100 emails sent at once per replica`,
			`testdata/smtp-data-timeout.yaml:9: smtp.data_timeout: 30m0s plus 12 × smtp.timeout (20s) must be at most 25m0s, the longest a delivery may take`,
			`testdata/smtp-data-timeout.yaml:10: smtp.messages_per_connection: 0: want 1 (a connection per message) to 1000`,
		}},
		{"smtp-admin.yaml", []string{
			`testdata/smtp-admin.yaml:4: smtp.host: required`,
			`testdata/smtp-admin.yaml:4: smtp.password: required with username`,
			`testdata/smtp-admin.yaml:5: smtp.port: must be between 1 and 65535, found 70000`,
			`testdata/smtp-admin.yaml:7: smtp.from: invalid email address "canh bao": no angle-addr`,
			`testdata/smtp-admin.yaml:8: smtp.tls: unknown value "ssl" (want one of: starttls, tls, none)`,
			`testdata/smtp-admin.yaml:9: smtp.timeout: must be a positive duration such as "30s", found 0s`,
			`testdata/smtp-admin.yaml:11: admin.listen: invalid address ":http": want host:port such as 127.0.0.1:8080`,
			`testdata/smtp-admin.yaml:14: admin.tokens[0].role: unknown value "root" (want one of: viewer, operator, admin)`,
			`testdata/smtp-admin.yaml:15: admin.tokens[0].token: too short: at least 16 characters, found 5`,
			`testdata/smtp-admin.yaml:16: admin.tokens[1].name: duplicate "ops" (first at admin.tokens[0].name)`,
			`testdata/smtp-admin.yaml:16: admin.tokens[1].token: required`,
			`testdata/smtp-admin.yaml:23: admin.tokens[3].token: same token as admin.tokens[2].token: each token must identify one holder`,
		}},
		{"ack-links.yaml", []string{
			`testdata/ack-links.yaml:6: notify.ack_key: too short: at least 32 characters, found 9`,
			`testdata/ack-links.yaml:7: notify.ack_valid_for: must be a positive duration such as "30s", found 0s`,
			`testdata/ack-links.yaml:12: admin.public_url: invalid URL "canhbao.x.example": want http:// or https:// and a host`,
		}},
		{"ack-links-no-key.yaml", []string{
			`testdata/ack-links-no-key.yaml:9: admin.public_url: "https://canhbao.x.example/dvcwatch?lang=vi": want a base address without ?query or #fragment: links are made by appending /ack/…`,
			`testdata/ack-links-no-key.yaml: notify.ack_key: required when admin.public_url is set: the acknowledge links in the mail are signed with it`,
		}},
		{"ack-links-no-url.yaml", []string{
			`testdata/ack-links-no-url.yaml:6: notify.ack_key: set, but admin.public_url is not: no mail carries acknowledge links without the address they point to`,
		}},
		{"no-tokens.yaml", []string{
			`testdata/no-tokens.yaml: admin.tokens: at least one token is required: the admin API refuses requests without one`,
		}},
		{"secrets.yaml", []string{
			`testdata/secrets.yaml:3: database.dsn: environment variable DVCWATCH_TEST_DB_PASSWORD is not set`,
			`testdata/secrets.yaml:5: redis.password: invalid environment variable name "dvcwatch-redis" in ${…}`,
			`testdata/secrets.yaml:12: smtp.password: unterminated ${ (write $${ for a literal ${)`,
			`testdata/secrets.yaml:18: admin.tokens[0].token: environment variable DVCWATCH_TEST_UNSET_TOKEN is not set`,
		}},
	}
	// secrets.yaml reads one variable that is set and two that are not.
	t.Setenv("DVCWATCH_TEST_DB_HOST", "db.example")
	unsetenv(t, "DVCWATCH_TEST_DB_PASSWORD")
	unsetenv(t, "DVCWATCH_TEST_UNSET_TOKEN")

	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", tt.file))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want a valid file, got:\n%v", err)
				}
				return
			}
			if c != nil {
				t.Errorf("Load() returned a Config along with problems")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load() error = %v (%T), want Problems", err, err)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("problems differ\n--- got:\n%s\n--- want:\n%s", got, want)
			}
		})
	}
}

// TestSentinel: with redis.sentinel the master is found through the
// sentinels, so redis.addr gets no default; the master's password and
// database still apply, and both passwords come from the environment.
func TestSentinel(t *testing.T) {
	t.Setenv("DVCWATCH_TEST_REDIS_PASSWORD", "master-secret")
	t.Setenv("DVCWATCH_TEST_SENTINEL_PASSWORD", "sentinel-secret")
	c, err := Load("testdata/sentinel.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redis
	want := Sentinel{MasterName: "dvcwatch", Addrs: []string{"10.0.0.5:26379", "10.0.0.6:26379", "[fd00::7]:26379"},
		Password: NewSecret("sentinel-secret")}
	if !reflect.DeepEqual(r.Sentinel, want) {
		t.Errorf("redis.sentinel = %+v, want %+v", r.Sentinel, want)
	}
	if r.Sentinel.Password.Reveal() != "sentinel-secret" || r.Password.Reveal() != "master-secret" || r.DB != 2 {
		t.Errorf("sentinel password, master password, db = %q, %q, %d", r.Sentinel.Password.Reveal(), r.Password.Reveal(), r.DB)
	}
	if r.Addr != "" || r.Embedded {
		t.Errorf("redis.addr = %q, embedded = %v; want neither with sentinels", r.Addr, r.Embedded)
	}
}

// minimal is the least a valid file holds; tests add sections to it.
const minimal = `
agencies:
  - code: X
    name: UBND xã X
smtp:
  host: smtp.example
  from: canhbao@x.example
admin:
  tokens:
    - {name: ops, role: admin, token: 0123456789abcdef}
`

func TestDefaults(t *testing.T) {
	t.Parallel()
	data := minimal + `
connectors:
  - name: dvcqg
    kind: dvcqg
    base_url: https://dichvucong.example/
    agency_code: H99
    username: u
    password: p
  - name: onestop
    kind: onestop
    base_url: https://motcua.example
    username: u
    password: p
schedules:
  - {name: sync, cron: "@hourly", job: sync, connector: onestop}
  - {name: detect, cron: "CRON_TZ=UTC 0 * * * *", job: detect}
`
	c, err := Parse([]byte(data), "dvcwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hours := []string{"07:30-11:30", "13:30-17:00"}
	want := &Config{
		Database: Database{Driver: "sqlite", DSN: NewSecret("dvcwatch.db")},
		Redis:    Redis{Addr: "127.0.0.1:6379"},
		Connectors: []Connector{
			{Name: "dvcqg", Kind: KindDVCQG, BaseURL: "https://dichvucong.example", AuthPath: "/api/auth", ServicePath: "/api/service",
				AgencyCode: "H99", Username: "u", Password: NewSecret("p"), Timeout: 30 * time.Second,
				RateLimit: 5, Burst: 1, Window: 24 * time.Hour, Overlap: 10 * time.Minute, MaxRetries: 5, MaxLag: time.Hour},
			{Name: "onestop", Kind: KindOneStop, BaseURL: "https://motcua.example",
				Username: "u", Password: NewSecret("p"), Timeout: 30 * time.Second,
				RateLimit: 5, Burst: 1, PageSize: 100, Window: 24 * time.Hour, Overlap: 10 * time.Minute, MaxRetries: 5, MaxLag: time.Hour},
		},
		Schedules: []Schedule{
			{Name: "sync", Cron: "@hourly", Job: JobSync, Connector: "onestop", Timezone: "Asia/Ho_Chi_Minh"},
			{Name: "detect", Cron: "CRON_TZ=UTC 0 * * * *", Job: JobDetect, Timezone: "UTC"},
		},
		Scheduler: Scheduler{MinInterval: time.Minute},
		Calendar:  Calendar{OfficeHours: hours, Cutoff: "17:00", Counting: sla.CountDates},
		Agencies:  []Agency{{Code: "X", Name: "UBND xã X", OfficeHours: hours, Cutoff: "17:00", Counting: sla.CountDates, Lateness: LatenessDate}},
		Detect: Detect{DueSoonHours: 8, DueSoonShare: 0.8, EscalateAfter: "2wd", FullSweepEvery: 24 * time.Hour,
			SupplementWithin: "3wd", ReceiveWithin: "8h"},
		Notify: Notify{
			RepeatAfter:     24 * time.Hour,
			OfficeHoursOnly: true,
			Escalation:      DefaultEscalation(),
			MaxRows:         30,
			DigestCron:      "30 7 * * 1-5",
			ReportCron:      "0 7 1 * *",
			AckValidFor:     7 * 24 * time.Hour,
			DeliveryWorkers: 4,
		},
		SMTP: SMTP{Host: "smtp.example", Port: 587, From: "canhbao@x.example", TLS: "starttls", Timeout: 20 * time.Second, DataTimeout: 10 * time.Minute, MessagesPerConnection: 20},
		Admin: Admin{Listen: "127.0.0.1:8080", Tokens: []Token{
			{Name: "ops", Role: AdminAdmin, Token: NewSecret("0123456789abcdef")},
		}},
		ShutdownTimeout: 25 * time.Second,
		Log:             Log{Level: "info", Format: "text"},
	}
	if !reflect.DeepEqual(c, want) {
		// Secrets print redacted, so compare them separately when this fails.
		t.Errorf("defaults differ\n got: %+v\nwant: %+v", c, want)
	}
	if got, want := c.Schedules[0].Spec(), "CRON_TZ=Asia/Ho_Chi_Minh @hourly"; got != want {
		t.Errorf("Spec() = %q, want %q", got, want)
	}
	if got, want := c.Schedules[1].Spec(), "CRON_TZ=UTC 0 * * * *"; got != want {
		t.Errorf("Spec() = %q, want %q", got, want)
	}
	if got, want := c.Notify.DigestSpec(), "CRON_TZ=Asia/Ho_Chi_Minh 30 7 * * 1-5"; got != want {
		t.Errorf("DigestSpec() = %q, want %q", got, want)
	}
	if c.Log.SlogLevel() != slog.LevelInfo {
		t.Errorf("SlogLevel() = %v, want INFO", c.Log.SlogLevel())
	}
}

// TestZeroIsNotDefault shows that a field written with its zero value keeps it.
func TestZeroIsNotDefault(t *testing.T) {
	t.Parallel()
	data := minimal + `
connectors:
  - {name: onestop, kind: onestop, base_url: "https://motcua.example", username: u, password: p, max_retries: 0, overlap: 0s}
notify:
  office_hours_only: false
log:
  level: warn
`
	c, err := Parse([]byte(data), "dvcwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Connectors[0]; k.MaxRetries != 0 || k.Overlap != 0 {
		t.Errorf("max_retries = %d, overlap = %s; want both 0 as written", k.MaxRetries, k.Overlap)
	}
	if c.Notify.OfficeHoursOnly {
		t.Error("office_hours_only = true, want false as written")
	}
	if c.Log.SlogLevel() != slog.LevelWarn {
		t.Errorf("SlogLevel() = %v, want WARN", c.Log.SlogLevel())
	}
}

// An agency counts as the calendar does unless it says otherwise.
func TestAgencyCounting(t *testing.T) {
	t.Parallel()
	agencyY := "  - {code: Y, name: UBND xã Y, counting: dates, lateness: minute}\nsmtp:"
	data := "calendar:\n  counting: office_hours\n" + strings.Replace(minimal, "smtp:", agencyY, 1)
	c, err := Parse([]byte(data), "dvcwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if x, y := c.Agencies[0], c.Agencies[1]; x.Counting != sla.CountOfficeHours || x.Lateness != LatenessDate ||
		y.Counting != sla.CountDates || y.Lateness != LatenessMinute {
		t.Errorf("agencies = %+v, %+v; want X office_hours by date, Y dates by minute", x, y)
	}
}

// TestAckLinks reads the acknowledge links' settings: the key from the
// environment, the address without its trailing slash (links append
// /ack/…), and the lifetime's default.
func TestAckLinks(t *testing.T) {
	const key = "ack-key-from-the-environment-0123456789"
	t.Setenv("DVCWATCH_TEST_ACK_KEY", key)
	c, err := Load(filepath.Join("testdata", "ack-links-valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Notify.AckKey.Reveal(); got != key {
		t.Errorf("notify.ack_key = %q, want the environment's value", got)
	}
	if got, want := c.Admin.PublicURL, "https://canhbao.x.example/dvcwatch"; got != want {
		t.Errorf("admin.public_url = %q, want %q", got, want)
	}
	if got, want := c.Notify.AckValidFor, 7*24*time.Hour; got != want {
		t.Errorf("notify.ack_valid_for = %s, want the default %s", got, want)
	}
	if s := fmt.Sprintf("%v %+v", c.Notify, c.Notify); strings.Contains(s, key) {
		t.Errorf("a printed notify section shows the ack key: %s", s)
	}
}

func TestRelativeCalendarFile(t *testing.T) {
	t.Parallel()
	c, err := Load(filepath.Join("testdata", "relative-calendar.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("testdata", "calendar-2026.yaml"); c.Calendar.File != want {
		t.Errorf("calendar.file = %q, want %q (relative to the configuration file)", c.Calendar.File, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join("testdata", "no-such-file.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load() error = %v, want fs.ErrNotExist", err)
	}
	if want := "read configuration: open testdata/no-such-file.yaml: no such file or directory"; err.Error() != want {
		t.Errorf("Load() error = %q, want %q", err, want)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(minimal), "dvcwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() on a parsed Config = %v, want nil", err)
	}
	c.SMTP.Port = 0
	c.Agencies[0].Officials = append(c.Agencies[0].Officials, Official{ID: "a", Name: "A", Email: "a@x.example", Role: "mayor", Department: "KT"})
	want := "smtp.port: must be between 1 and 65535, found 0"
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Validate() = %v, want it to contain %q", err, want)
	}
	if want := `agencies[0].officials[0].role: unknown value "mayor"`; !strings.Contains(err.Error(), want) {
		t.Errorf("Validate() = %v, want it to contain %q", err, want)
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"A": "alpha", "B": "b$ta", "EMPTY": ""}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "postgres://u:${A}@${B}/db", want: "postgres://u:alpha@b$ta/db"},
		{in: "${EMPTY}", want: ""},
		{in: "pa$$word$", want: "pa$$word$"},
		{in: "$A", want: "$A"},
		{in: "$${A}", want: "${A}"},
		{in: "${A", err: "unterminated ${ (write $${ for a literal ${)"},
		{in: "${}", err: `invalid environment variable name "" in ${…}`},
		{in: "${1A}", err: `invalid environment variable name "1A" in ${…}`},
		{in: "${NOPE}", err: "environment variable NOPE is not set"},
		{in: "${NOPE}:${A}:${NEITHER}", err: "environment variables NOPE, NEITHER are not set"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, lookup)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestExpandOnlySecrets shows that ${...} in ordinary fields is kept as written.
func TestExpandOnlySecrets(t *testing.T) {
	t.Setenv("DVCWATCH_TEST_HOST", "expanded.example")
	data := strings.Replace(minimal, "host: smtp.example", "host: ${DVCWATCH_TEST_HOST}", 1)
	c, err := Parse([]byte(data), "dvcwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Host != "${DVCWATCH_TEST_HOST}" {
		t.Errorf("smtp.host = %q, want it unexpanded", c.SMTP.Host)
	}
}

func TestSecretIsNeverPrinted(t *testing.T) {
	setenv(t, exampleEnv)
	c, err := Load("dvcwatch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSecret("hunter2-secret-value")
	c.SMTP.Password = s
	type holder struct{ Password Secret }

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3s"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, holder{s}), fmt.Sprintf(verb, &holder{s}))
	}
	outputs = append(outputs, fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c), fmt.Sprint(s), s.String())

	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		log := slog.New(newHandler(&b))
		log.Info("config", "password", s, "smtp", c.SMTP, "holder", holder{s}, slog.Any("config", c))
		outputs = append(outputs, b.String())
	}

	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j), string(y))

	for i, out := range outputs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "68756e74657232") /* hex */ {
			t.Errorf("output %d leaks the secret: %s", i, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("output %d does not say [redacted]: %s", i, out)
		}
	}
	for _, v := range exampleEnv {
		for i, out := range outputs {
			if strings.Contains(out, v) {
				t.Errorf("output %d leaks %q: %s", i, v, out)
			}
		}
	}
	if s.Reveal() != "hunter2-secret-value" {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}

func TestSpecKeepsItsOwnZone(t *testing.T) {
	t.Parallel()
	tests := []struct{ cron, zone, want string }{
		{"*/5 * * * *", "Asia/Ho_Chi_Minh", "CRON_TZ=Asia/Ho_Chi_Minh */5 * * * *"},
		{"@every 15m", "UTC", "CRON_TZ=UTC @every 15m"},
		{"CRON_TZ=UTC 0 7 * * *", "Asia/Ho_Chi_Minh", "CRON_TZ=UTC 0 7 * * *"},
		{"TZ=UTC 0 7 * * *", "Asia/Ho_Chi_Minh", "TZ=UTC 0 7 * * *"},
	}
	for _, tt := range tests {
		if got := (Schedule{Cron: tt.cron, Timezone: tt.zone}).Spec(); got != tt.want {
			t.Errorf("Spec(%q, %q) = %q, want %q", tt.cron, tt.zone, got, tt.want)
		}
	}
}

func TestJobsAreAccepted(t *testing.T) {
	t.Parallel()
	for _, j := range Jobs {
		s := Schedule{Name: "s", Cron: "@hourly", Job: j, Timezone: DefaultTimezone}
		if j == JobSync || j == JobReconcile {
			s.Connector = "dvcqg"
		}
		c := &Config{Schedules: []Schedule{s}, Connectors: []Connector{{Name: "dvcqg", MirrorOf: "onestop"}, {Name: "onestop"}}}
		ch := &checker{}
		c.validateSchedules(ch, []string{"dvcqg", "onestop"})
		if len(ch.problems) > 0 {
			t.Errorf("job %q: %v", j, Problems(ch.problems))
		}
	}
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "f.yaml", Line: 3, Path: "a.b", Message: "m"}, "f.yaml:3: a.b: m"},
		{Problem{File: "f.yaml", Path: "a.b", Message: "m"}, "f.yaml: a.b: m"},
		{Problem{File: "f.yaml", Line: 3, Message: "m"}, "f.yaml:3: m"},
		{Problem{Path: "a.b", Message: "m"}, "a.b: m"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := fieldNames("config.Schedule")
	for in, want := range map[string]string{"crn": "cron", "time_zone": "timezone", "conector": "connector", "frequency": ""} {
		if got := Suggest(in, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDefaultEscalation pins the default rules: the official first, the head
// once overdue, the office after two working days overdue; the head and the
// office for the agency's own duties; the office for the national portal.
func TestDefaultEscalation(t *testing.T) {
	t.Parallel()
	o, h, office := dvcwatch.RoleOfficial, dvcwatch.RoleDepartmentHead, dvcwatch.RoleOffice
	late := []string{"overdue", "step_overdue", "new_date_missed"}
	want := []Rule{
		{When: Match{Kinds: []string{"due_soon"}}, Notify: []dvcwatch.Role{o}},
		{When: Match{Kinds: late, Open: true}, Notify: []dvcwatch.Role{o, h}},
		{When: Match{Kinds: late, OverdueMoreThan: "2wd", Open: true}, Notify: []dvcwatch.Role{o, h, office}},
		{When: Match{Kinds: []string{"no_apology", "late_apology", "rescheduled_twice", "supplemented_twice",
			"late_supplement_request", "due_beyond_limit"}, Open: true}, Notify: []dvcwatch.Role{h, office}},
		{When: Match{Kinds: []string{"not_received", "not_synced", "portal_mismatch"}}, Notify: []dvcwatch.Role{office}},
	}
	if got := DefaultEscalation(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultEscalation() = %+v, want %+v", got, want)
	}
}

// TestMergeKeysCountAsWritten shows that a field taken from an anchor with "<<:"
// keeps its value instead of the default.
func TestMergeKeysCountAsWritten(t *testing.T) {
	t.Parallel()
	data := minimal + `
connectors:
  - &portal
    name: onestop
    kind: onestop
    base_url: https://motcua.example
    username: u
    password: p
    timeout: 10s
    max_retries: 0
  - <<: *portal
    name: onestop-2
`
	c, err := Parse([]byte(data), "dvcwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Connectors[1]; k.Timeout != 10*time.Second || k.MaxRetries != 0 || k.Name != "onestop-2" {
		t.Errorf("merged connector = %+v, want timeout 10s and max_retries 0 from the anchor", k)
	}
}
