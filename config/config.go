// Package config reads dvcwatch's one YAML file into a Config: strict decoding (a
// misspelt field is an error with its line), secrets expanded from the environment,
// defaults, and validation that reports every problem at once, one per line, as
// "file:line: field.path: message". Limits ("2wd"), office hours
// ("07:30-11:30") and the calendar file are checked by sla's own parsers, so
// that what config check accepts the worker can run with.
//
// The types are in config.go, reading the file in load.go, the defaults in
// defaults.go, the validation in validate.go and problems.go.
package config

import (
	"log/slog"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// DefaultTimezone is the zone of schedules when none is given: portal dates and
// office hours are all Vietnamese local time.
const DefaultTimezone = "Asia/Ho_Chi_Minh"

// Config is the whole configuration file.
type Config struct {
	Database   Database    `yaml:"database"`
	Redis      Redis       `yaml:"redis"`
	Connectors []Connector `yaml:"connectors"`
	Schedules  []Schedule  `yaml:"schedules"`
	Scheduler  Scheduler   `yaml:"scheduler"`
	Calendar   Calendar    `yaml:"calendar"`
	Agencies   []Agency    `yaml:"agencies"`
	Procedures []Procedure `yaml:"procedures"`
	Detect     Detect      `yaml:"detect"`
	Notify     Notify      `yaml:"notify"`
	SMTP       SMTP        `yaml:"smtp"`
	Admin      Admin       `yaml:"admin"`
	// ShutdownTimeout bounds how long the worker waits for running jobs after
	// SIGTERM; keep it under the container runtime's kill grace period (30 s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	Log             Log           `yaml:"log"`
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Database says where the store keeps dossiers; consumed by package store.
type Database struct {
	Driver string `yaml:"driver"` // sqlite (default, embedded) or postgres
	// DSN is passed verbatim to the driver: a file name or file: URI for SQLite
	// (relative to the working directory), a postgres:// URL for PostgreSQL.
	DSN Secret `yaml:"dsn"`
}

// Redis is the asynq queue's server; consumed by the worker.
type Redis struct {
	Addr string `yaml:"addr"` // host:port; ignored when Embedded, refused with Sentinel
	// Password and DB are the server's, or with Sentinel the master's.
	Password Secret `yaml:"password"`
	DB       int    `yaml:"db"`
	// Embedded runs an in-process Redis (miniredis) for the demo: no persistence,
	// so queued alerts are lost on restart.
	Embedded bool `yaml:"embedded"`
	// Sentinel, when set, finds the master through Redis Sentinel instead of
	// Addr, and follows it when the sentinels promote a replica.
	Sentinel Sentinel `yaml:"sentinel"`
}

// Sentinel names a master the sentinels at Addrs watch.
type Sentinel struct {
	MasterName string   `yaml:"master_name"` // as in sentinel.conf's "sentinel monitor NAME ..."
	Addrs      []string `yaml:"addrs"`       // host:port of the sentinels; any one that answers will do
	// Password is the sentinels' own (requirepass in sentinel.conf), not the
	// master's: that one is redis.password.
	Password Secret `yaml:"password"`
}

// Enabled reports whether any sentinel field is set: then the master is
// found through the sentinels, and validation requires the others.
func (s Sentinel) Enabled() bool {
	return s.MasterName != "" || len(s.Addrs) > 0 || !s.Password.IsZero()
}

// ConnectorKind names a portal protocol; each has its package under connectors/.
type ConnectorKind string

// The portals dvcwatch can pull from.
const (
	KindDVCQG   ConnectorKind = "dvcqg"   // Cổng Dịch vụ công quốc gia
	KindOneStop ConnectorKind = "onestop" // the provincial one-stop system (một cửa)
)

// Connector is one portal account to pull dossiers from; consumed by the
// connectors/<kind> packages, which the worker builds from it.
type Connector struct {
	Name    string        `yaml:"name"` // [a-z0-9_-]+, stored with every dossier as its source
	Kind    ConnectorKind `yaml:"kind"`
	BaseURL string        `yaml:"base_url"` // http(s); a trailing slash is removed
	// AuthPath is appended to BaseURL for the login call; dvcqg defaults to
	// "/api/auth", but no public spec fixes it, so set what the portal uses.
	AuthPath string `yaml:"auth_path"`
	// ServicePath is appended to BaseURL for every dvcqg service call
	// (POST {session, madonvi, service, ...}); defaults to "/api/service".
	ServicePath string        `yaml:"service_path"`
	AgencyCode  string        `yaml:"agency_code"` // madonvi, sent with every dvcqg request
	Username    string        `yaml:"username"`
	Password    Secret        `yaml:"password"`
	Timeout     time.Duration `yaml:"timeout"`    // per HTTP request
	RateLimit   float64       `yaml:"rate_limit"` // requests per second
	Burst       int           `yaml:"burst"`
	PageSize    int           `yaml:"page_size"` // onestop only: dvcqg has no paging
	// Window is the date range one list request covers; the portal has no paging,
	// so windows are how a sync is cut into pieces that can be checkpointed.
	Window time.Duration `yaml:"window"`
	// Overlap re-reads the end of the previous window so late-written dossiers
	// are not missed; duplicates are removed on MaHoSo.
	Overlap    time.Duration `yaml:"overlap"`
	MaxRetries int           `yaml:"max_retries"` // per request, after the first attempt; 0 disables
	// MirrorOf names the connector that is the source of truth this one copies
	// (the national portal mirrors the provincial one-stop system); a
	// reconcile schedule on this connector compares the two.
	MirrorOf string `yaml:"mirror_of"`
	// MaxLag is how long the mirror may take to show a change before the
	// difference is recorded (default 1h).
	MaxLag time.Duration `yaml:"max_lag"`
}

// Job names a kind of scheduled work; package jobs maps each to an asynq task type.
type Job string

// The jobs a schedule can run.
const (
	JobSync      Job = "sync"      // pull dossiers from one connector
	JobDetect    Job = "detect"    // check stored dossiers against their deadlines
	JobNotify    Job = "notify"    // send the alerts the detector queued
	JobDigest    Job = "digest"    // mail the office its summary of delays
	JobReconcile Job = "reconcile" // compare one connector's copy with the source of truth
	JobReport    Job = "report"    // mail last month's results to the monitor and the office
)

// Jobs lists every valid Job, in the order the documentation gives them.
var Jobs = []Job{JobSync, JobDetect, JobNotify, JobDigest, JobReconcile, JobReport}

// Schedule runs one job on a cron schedule; consumed by the worker's scheduler.
type Schedule struct {
	Name string `yaml:"name"` // [a-z0-9_-]+, part of the task ID that dedupes ticks across replicas
	// Cron is a standard 5-field expression or a descriptor (@hourly, @every 15m),
	// optionally prefixed "CRON_TZ=Zone ".
	Cron      string `yaml:"cron"`
	Job       Job    `yaml:"job"`
	Connector string `yaml:"connector"` // required by sync and reconcile, refused by the others
	// Timezone defaults to the CRON_TZ of Cron, else DefaultTimezone.
	Timezone string `yaml:"timezone"`
	Paused   bool   `yaml:"paused"` // registered but not enqueued, so the admin UI can resume it
}

// Scheduler holds what every schedule keeps to; consumed by package
// scheduler and the admin API's schedule editor.
type Scheduler struct {
	// MinInterval is the shortest time allowed between two ticks of any
	// schedule (default 1m): config check, the admin API and the scheduler
	// refuse a cron expression that fires more often, so that no one can set
	// "@every 1ns" and flood the queue and the portals. The demo and the
	// tests lower it for their schedules of a few seconds.
	MinInterval time.Duration `yaml:"min_interval"`
}

// Spec returns the cron expression with its time zone, ready for robfig/cron.
func (s Schedule) Spec() string { return withZone(s.Cron, s.Timezone) }

// Calendar holds the working-time defaults that package sla computes deadlines
// with; agencies may override the office hours and cut-off.
type Calendar struct {
	// File is an operator-maintained calendar of holidays and day swaps, read by
	// sla; Parse resolves it relative to the configuration file's directory.
	File        string   `yaml:"file"`
	OfficeHours []string `yaml:"office_hours"` // "HH:MM-HH:MM", ascending, not overlapping
	// Cutoff is the time after which a dossier counts as received the next
	// working morning (a local convention, see domain notes).
	Cutoff string `yaml:"cutoff"`
	// Counting is how limits are counted from a receipt: dates (the legal
	// counting, the default) or office_hours; see sla.Counting.
	Counting sla.Counting `yaml:"counting"`
}

// How an agency compares the end of processing with its due.
const (
	LatenessDate   = "date"   // on time when finished on the due date (the default)
	LatenessMinute = "minute" // on time when finished by the due instant
)

// Agency is one handling agency (DonViXuLy) and the people who answer for its
// dossiers; consumed by notify to route alerts.
type Agency struct {
	Code string `yaml:"code"` // as the portals report DonViXuLy
	Name string `yaml:"name"`
	// ShortName starts the subject of the agency's mail, e.g. "UBND xã Hòa
	// Bình"; empty uses Name.
	ShortName   string       `yaml:"short_name"`
	OfficeHours []string     `yaml:"office_hours"` // defaults to calendar.office_hours
	Cutoff      string       `yaml:"cutoff"`       // defaults to calendar.cutoff
	Counting    sla.Counting `yaml:"counting"`     // defaults to calendar.counting
	// Lateness is LatenessDate (the default) or LatenessMinute; validated here
	// for the rules that compare the end of processing with the due.
	Lateness    string       `yaml:"lateness"`
	Departments []Department `yaml:"departments"`
	Officials   []Official   `yaml:"officials"`
}

// Department is a department (phòng ban) of an agency.
type Department struct {
	Code string `yaml:"code"` // as the portals report PhongBanXuLy
	Name string `yaml:"name"`
	Head string `yaml:"head"` // id of an official of the agency with role department_head
}

// Official is a person of an agency who receives alerts.
type Official struct {
	ID         string        `yaml:"id"` // unique across agencies; the portal user name (NguoiXuLy)
	Name       string        `yaml:"name"`
	Title      string        `yaml:"title"`
	Email      string        `yaml:"email"` // a bare address: the name comes from Name
	Role       dvcwatch.Role `yaml:"role"`  // defaults to official
	Department string        `yaml:"department"`
}

// Procedure is an administrative procedure (thủ tục hành chính) and its legal
// time limit, from which the detector recomputes every dossier's due date
// independently of the NgayHenTra written on the receipt.
type Procedure struct {
	Code  string `yaml:"code"`  // MaTTHC, as the portals report it
	Name  string `yaml:"name"`  // TenTTHC
	Limit string `yaml:"limit"` // "5wd", "15d", "8h" or "1m", parsed by sla
	// Supplement says what a supplement round does to the limit: restart
	// (the default, Decree 118/2025/NĐ-CP art. 19(5): the limit counts again
	// from the day the complete documents were received) or pause (the
	// clock stops while the citizen supplements, for procedures whose own
	// law says so).
	Supplement SupplementMode `yaml:"supplement"`
}

// SupplementMode is what a supplement round does to a procedure's limit.
type SupplementMode string

// Supplement modes.
const (
	SupplementRestart SupplementMode = "restart"
	SupplementPause   SupplementMode = "pause"
)

// Severities lists the breach severities from least to most severe.
var Severities = []string{"info", "warning", "critical"}

// Detect tunes the breach rules and the detection job; consumed by package detect.
type Detect struct {
	// DueSoonHours: an open dossier with at most this many working hours left
	// is due soon.
	DueSoonHours float64 `yaml:"due_soon_hours"`
	// DueSoonShare: an open dossier that has used this share of its allowed
	// working time is due soon, whichever comes first.
	DueSoonShare float64 `yaml:"due_soon_share"`
	// EscalateAfter: overdue by more than this (working days "wd" or working
	// hours "h") turns an overdue breach critical.
	EscalateAfter string `yaml:"escalate_after"`
	// FullSweepEvery: a detection pass re-evaluates every stored dossier when
	// the last full sweep is older than this; the passes between look only at
	// dossiers that changed, are still open or have an unresolved breach.
	FullSweepEvery time.Duration `yaml:"full_sweep_every"`
	// SupplementWithin: a supplement requested later than this many working
	// days after reception is late (Decree 118/2025/NĐ-CP art. 19(5): no more
	// than 03 working days), unless the procedure's own law says otherwise.
	SupplementWithin string `yaml:"supplement_within"`
	// ReceiveWithin: an online submission left unreceived (status 1) longer
	// than this many working hours is a breach (Decree 118/2025/NĐ-CP art.
	// 17(2)(c): no later than 08 working hours).
	ReceiveWithin string `yaml:"receive_within"`
}

// Notify says who hears about which breach and when; consumed by package notify.
type Notify struct {
	// DossierURL links an alert to the dossier in the one-stop system; notify
	// replaces {code} with the escaped MaHoSo. Empty sends no link.
	DossierURL string `yaml:"dossier_url"`
	// RepeatAfter is how long before the same unresolved breach is mailed again.
	RepeatAfter time.Duration `yaml:"repeat_after"`
	// OfficeHoursOnly holds mail until the recipient agency's office hours, so
	// alerts are not read (and forgotten) at night.
	OfficeHoursOnly bool   `yaml:"office_hours_only"`
	Escalation      []Rule `yaml:"escalation"`
	// SubjectPrefix starts every email's subject, in brackets; empty uses
	// the recipient agency's short_name (else its name).
	SubjectPrefix string `yaml:"subject_prefix"`
	// MaxRows is how many dossiers one email lists, most urgent first; the
	// rest are counted, linked to the admin console, and, in the office's
	// summary, attached as a workbook.
	MaxRows int `yaml:"max_rows"`
	// DigestCron schedules the office's daily summary of every delay, validated
	// like schedules[].cron; the worker registers it as the schedule "notify.digest".
	DigestCron string `yaml:"digest_cron"`
	// ReportCron schedules the monthly results mailed to the monitor and the
	// office (the previous month's, with the workbook attached); the worker
	// registers it as the schedule "notify.report".
	ReportCron string `yaml:"report_cron"`
	// Templates is a directory whose subject.tmpl, text.tmpl, html.tmpl and
	// summary_*.tmpl replace the built-in email templates of the same name;
	// Parse resolves it relative to the configuration file's directory.
	Templates string `yaml:"templates"`
	// AckKey signs the links in each digest row by which an official
	// acknowledges its breaches without logging in (package notify/acklink):
	// whoever holds it can forge such links, so it is a secret, required
	// with admin.public_url, at least MinAckKeyLength characters.
	AckKey Secret `yaml:"ack_key"`
	// AckValidFor is how long an acknowledge link works after its email is
	// composed (default 7 days): long enough for a week away from the desk,
	// short enough that an old forwarded mail stops acting for its recipient.
	AckValidFor time.Duration `yaml:"ack_valid_for"`
	// Admins are the bare addresses of the people who run dvcwatch: each gets
	// one email when a connector stops after a permanent failure (credentials
	// rejected, access refused), and one when it recovers. Empty tells no one;
	// the admin UI's banner and /metrics show it all the same.
	Admins []string `yaml:"admins"`
	// DeliveryWorkers is how many emails one replica sends at once (default
	// 4), on a queue and workers of their own: a mail backlog or a slow mail
	// server never holds up syncs and detection.
	DeliveryWorkers int `yaml:"delivery_workers"`
}

// MinAckKeyLength is the shortest notify.ack_key accepted: 32 characters,
// the 256 bits of HMAC-SHA256's own output (RFC 2104 advises no key shorter
// than that output) when the key is random bytes written in base64.
const MinAckKeyLength = 32

// DigestSpec returns DigestCron with DefaultTimezone applied unless it names its own.
func (n Notify) DigestSpec() string { return withZone(n.DigestCron, DefaultTimezone) }

// ReportSpec returns ReportCron with DefaultTimezone applied unless it names its own.
func (n Notify) ReportSpec() string { return withZone(n.ReportCron, DefaultTimezone) }

// Rule adds recipients to a breach that matches When; every matching rule adds
// its roles, so later rules escalate rather than replace.
type Rule struct {
	When   Match           `yaml:"when"`
	Notify []dvcwatch.Role `yaml:"notify"`
}

// Match selects breaches; every condition given must hold.
type Match struct {
	// Kinds are breach kinds such as due_soon or overdue; notify checks the
	// names against the detector's kinds at start-up.
	Kinds       []string `yaml:"kinds"`
	MinSeverity string   `yaml:"min_severity"` // one of Severities; empty matches all
	// OverdueMoreThan is a limit such as "2wd" that sla parses; empty matches all.
	OverdueMoreThan string `yaml:"overdue_more_than"`
	// Open matches only breaches of dossiers still owed a result: one that
	// is finished is history, in the office's daily summary.
	Open bool `yaml:"open"`
}

// SMTP TLS modes.
const (
	TLSStartTLS = "starttls" // upgrade a plain connection, usually port 587
	TLSImplicit = "tls"      // TLS from the first byte, usually port 465
	TLSNone     = "none"     // only for a local relay or the test server
)

// SMTP is the mail server alerts leave through; consumed by notify/email.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"` // empty sends without AUTH
	Password Secret `yaml:"password"`
	From     string `yaml:"from"` // may carry a display name: "UBND xã <noreply@…>"
	TLS      string `yaml:"tls"`
	// Timeout bounds the connection and each command but one: the wait for
	// the reply to the end of the message, bounded by DataTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// DataTimeout bounds the wait for the reply to the final "." of DATA
	// (default 10 minutes, as RFC 5321 §4.5.3.2.6 allows a server): a
	// message given up on then may have been delivered, and is not sent
	// again by itself.
	DataTimeout time.Duration `yaml:"data_timeout"`
	// MessagesPerConnection is how many messages one connection carries
	// before it is closed (DefaultMessagesPerConnection); 1 opens a
	// connection per message. A connection is also closed once idle for a
	// few seconds or a few minutes old.
	MessagesPerConnection int `yaml:"messages_per_connection"`
}

// DefaultMessagesPerConnection is smtp.messages_per_connection's default:
// Exchange's receive connectors take 20 messages per connection by
// default; Postfix takes any number.
const DefaultMessagesPerConnection = 20

// smtpSteps is how many exchanges smtp.timeout bounds each before an
// email's outcome is known: MAIL on a kept connection that turns out dead,
// then on a new one the connection and greeting, EHLO, STARTTLS, EHLO
// again, AUTH (up to three), MAIL, RCPT, DATA, the message. QUIT comes
// after the outcome is recorded.
const smtpSteps = 12

// MaxConversation is the longest one SMTP conversation may last
// (SMTP.Conversation): the delivery task's timeout leaves room beyond it.
const MaxConversation = 25 * time.Minute

// Conversation is the longest one SMTP conversation can last: every
// exchange at its timeout, the end of the message at its own.
func (s SMTP) Conversation() time.Duration { return s.DataTimeout + smtpSteps*s.Timeout }

// AdminRole is what an admin API token may do; consumed by the worker's admin HTTP.
type AdminRole string

// Admin roles, each allowed everything the previous one is.
const (
	AdminViewer   AdminRole = "viewer"   // read the dashboard, breaches, emails, jobs and schedules
	AdminOperator AdminRole = "operator" // also change schedules (run now, pause, resume, cron), acknowledge breaches and silence them
	AdminAdmin    AdminRole = "admin"    // also retry and delete failed jobs
)

// Admin is the admin HTTP API and UI.
type Admin struct {
	Listen string  `yaml:"listen"` // host:port
	Tokens []Token `yaml:"tokens"`
	// PublicURL is where officials' browsers reach this admin server (often
	// through a reverse proxy), e.g. https://canhbao.hoabinh.example: the
	// acknowledge links in the mail point under it. Empty sends no such links.
	PublicURL string `yaml:"public_url"`
	// SecureCookies marks the UI's session cookie Secure, so that browsers
	// send it over HTTPS only. Default: true unless listen is a loopback
	// address, or true when public_url is https:// (a TLS proxy in front);
	// false for a plain-HTTP console on a trusted network. The cookie is
	// Secure anyway on a connection this process serves over TLS.
	SecureCookies bool `yaml:"secure_cookies"`
}

// MinTokenLength keeps bearer tokens long enough not to be guessed.
const MinTokenLength = 16

// Token is one bearer token of the admin API.
type Token struct {
	Name  string    `yaml:"name"` // shown in the audit log instead of the token
	Role  AdminRole `yaml:"role"`
	Token Secret    `yaml:"token"`
}

// Log configures the process's slog handler.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error (slog syntax, e.g. "info+2")
	Format string `yaml:"format"` // text or json
}

// SlogLevel returns Level as a slog.Level; Validate has checked it parses.
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(l.Level))
	return lv
}

// CronZone returns the zone named by a CRON_TZ= or TZ= prefix of a cron
// expression, or "".
func CronZone(expr string) string {
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(expr, prefix); ok {
			zone, _, _ := strings.Cut(rest, " ")
			return zone
		}
	}
	return ""
}

func withZone(expr, zone string) string {
	if CronZone(expr) != "" || zone == "" {
		return expr
	}
	return "CRON_TZ=" + zone + " " + expr
}
