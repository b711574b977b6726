package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedules name zones that hosts without zoneinfo must load

	"github.com/robfig/cron/v3"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Validate reports every problem of a Config whose defaults are applied, as
// Problems without file or line; Parse adds those.
func (c *Config) Validate() error {
	if ps := c.validate(); len(ps) > 0 {
		return Problems(ps)
	}
	return nil
}

// checker collects problems so that one pass reports all of them.
type checker struct {
	problems []Problem
	// minInterval is scheduler.min_interval, which every cron expression
	// keeps to; zero checks none (it is itself invalid then).
	minInterval time.Duration
}

func (ch *checker) addf(path, format string, args ...any) {
	ch.problems = append(ch.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (ch *checker) required(path, value string) bool {
	if value == "" {
		ch.addf(path, "required")
		return false
	}
	return true
}

func (ch *checker) oneOf(path, value string, allowed ...string) {
	if ch.required(path, value) && !slices.Contains(allowed, value) {
		ch.addf(path, "unknown value %q %s", value, WantOneOf(value, allowed))
	}
}

func (ch *checker) positive(path string, d time.Duration) {
	if d <= 0 {
		ch.addf(path, "must be a positive duration such as \"30s\", found %s", d)
	}
}

// unique reports a value already seen under another path.
func (ch *checker) unique(seen map[string]string, path, value string) {
	if value == "" {
		return
	}
	if first, dup := seen[value]; dup {
		ch.addf(path, "duplicate %q (first at %s)", value, first)
		return
	}
	seen[value] = path
}

func (ch *checker) hostPort(path, value string) {
	if !ch.required(path, value) {
		return
	}
	_, port, err := net.SplitHostPort(value)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		ch.addf(path, "invalid address %q: want host:port such as 127.0.0.1:8080", value)
	}
}

func (ch *checker) httpURL(path, value string) {
	if !ch.required(path, value) {
		return
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ch.addf(path, "invalid URL %q: want http:// or https:// and a host", value)
	}
}

var (
	namePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

func (ch *checker) name(path, value string) {
	if ch.required(path, value) && !namePattern.MatchString(value) {
		ch.addf(path, "invalid name %q: use lower-case letters, digits, _ and -", value)
	}
}

// officeHours checks sessions and cutoff with the parser the deadline calculator
// uses, so that a file config check accepts is one the worker can run with.
// Each session and the cutoff are parsed alone first so that every problem
// names its own field; the order of sessions and the cutoff's place in the day
// are checked once they all parse.
func (ch *checker) officeHours(path string, hours []string, cutoffPath, cutoff string) {
	if len(hours) == 0 {
		ch.addf(path, "at least one range such as \"07:30-11:30\" is required")
	}
	parsed := len(hours) > 0
	for i, h := range hours {
		if _, err := sla.ParseSession(h); err != nil {
			ch.addf(fmt.Sprintf("%s[%d]", path, i), "invalid office hours: %v", err)
			parsed = false
		}
	}
	if ch.required(cutoffPath, cutoff) {
		if _, err := sla.ParseClock(cutoff); err != nil {
			ch.addf(cutoffPath, "invalid cutoff: %v", err)
			return
		}
	}
	if !parsed {
		return
	}
	if _, err := sla.ParseOfficeHours(hours, ""); err != nil {
		ch.addf(path, "%v", err)
	} else if _, err := sla.ParseOfficeHours(hours, cutoff); err != nil {
		ch.addf(cutoffPath, "%v", err)
	}
}

// cron checks an expression with the parser the scheduler uses.
func (ch *checker) cron(path, expr string) {
	if !ch.required(path, expr) {
		return
	}
	if err := CheckCron(expr); err != nil {
		ch.addf(path, "%v", err)
		return
	}
	if ch.minInterval > 0 {
		if err := CheckInterval(expr, ch.minInterval); err != nil {
			ch.addf(path, "%v", err)
		}
	}
}

// CheckCron reports whether expr is a cron expression the scheduler accepts
// (five fields or a descriptor, with an optional CRON_TZ= prefix), with an
// error that quotes it and says what is wrong, e.g.
// invalid cron expression "*/5 * *": expected exactly 5 fields, found 3.
func CheckCron(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return errors.New("invalid cron expression: empty")
	}
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		// robfig/cron panics on a bare "CRON_TZ=" or "TZ=" (slicing past the
		// zone it looks for), so the prefix is checked here first.
		zone, rest, spaced := strings.Cut(strings.SplitN(expr, "=", 2)[1], " ")
		if zone == "" || !spaced || strings.TrimSpace(rest) == "" {
			return fmt.Errorf("invalid cron expression %q: CRON_TZ=Zone must name a zone and be followed by a space and the schedule", expr)
		}
	}
	sched, err := cron.ParseStandard(expr)
	if err != nil {
		msg := err.Error()
		// Drop robfig's echo of the fields ("...: [*/5 * *]"): the expression is quoted already.
		if i := strings.LastIndex(msg, ": ["); i >= 0 && strings.HasSuffix(msg, "]") {
			msg = msg[:i]
		}
		return fmt.Errorf("invalid cron expression %q: %s", expr, msg)
	}
	// robfig/cron reads "@every 1ns" or "@every -5m" as every second
	// without a word; say so instead.
	if _, ok := sched.(cron.ConstantDelaySchedule); ok {
		_, spec, _ := strings.Cut(expr, "@every")
		if d, err := time.ParseDuration(strings.TrimSpace(spec)); err == nil && d < MinCronInterval {
			return fmt.Errorf("invalid cron expression %q: @every takes %s or more", expr, MinCronInterval)
		}
	}
	return nil
}

// MinCronInterval is the shortest "@every" a schedule may take.
const MinCronInterval = time.Second

func (ch *checker) timezone(path, zone string) {
	if !ch.required(path, zone) {
		return
	}
	if zone == "Local" {
		ch.addf(path, "name a zone such as %s: Local depends on the host", DefaultTimezone)
		return
	}
	if _, err := time.LoadLocation(zone); err != nil {
		ch.addf(path, "unknown time zone %q", zone)
	}
}

func (ch *checker) email(path, value string) { ch.address(path, value, "the name goes in name") }

// address checks a bare email address; hint ends the message for one written
// with a display name ("" suggests the bare address).
func (ch *checker) address(path, value, hint string) {
	if !ch.required(path, value) {
		return
	}
	a, err := mail.ParseAddress(value)
	switch {
	case err != nil:
		ch.addf(path, "invalid email address %q: %s", value, strings.TrimPrefix(err.Error(), "mail: "))
	case a.Address != value:
		if hint == "" {
			hint = a.Address
		}
		ch.addf(path, "invalid email address %q: write the bare address, %s", value, hint)
	}
}

func (c *Config) validate() []Problem {
	ch := &checker{}
	// Before the schedules, whose cron expressions keep to it.
	if c.Scheduler.MinInterval < MinCronInterval {
		ch.addf("scheduler.min_interval", "must be %s or more, found %s", MinCronInterval, c.Scheduler.MinInterval)
	} else {
		ch.minInterval = c.Scheduler.MinInterval
	}
	c.validateStore(ch)
	connectors := c.validateConnectors(ch)
	c.validateSchedules(ch, connectors)
	c.validateCalendar(ch)
	c.validateAgencies(ch)
	c.validateProcedures(ch)
	c.validateDetect(ch)
	c.validateNotify(ch)
	c.validateSMTP(ch)
	c.validateAdmin(ch)
	ch.positive("shutdown_timeout", c.ShutdownTimeout)
	// A delivery still talking to the mail server when shutdown gives up is
	// handed back and sent again after its claim goes stale, although the
	// server may have the whole message already: every email in DATA at that
	// moment would go out twice. An SMTP conversation that always ends first
	// closes that door.
	if c.SMTP.Timeout > 0 && c.ShutdownTimeout > 0 && c.SMTP.Timeout >= c.ShutdownTimeout {
		ch.addf("smtp.timeout", "must be shorter than shutdown_timeout (%s), found %s: a delivery cut off at shutdown may have been sent already, and would be sent again",
			c.ShutdownTimeout, c.SMTP.Timeout)
	}
	var lv slog.Level
	if ch.required("log.level", c.Log.Level) && lv.UnmarshalText([]byte(c.Log.Level)) != nil {
		ch.addf("log.level", "unknown value %q %s", c.Log.Level, WantOneOf(c.Log.Level, LogLevels))
	}
	ch.oneOf("log.format", c.Log.Format, "text", "json")
	return ch.problems
}

func (c *Config) validateStore(ch *checker) {
	ch.oneOf("database.driver", c.Database.Driver, DriverSQLite, DriverPostgres)
	if c.Database.DSN.IsZero() {
		ch.addf("database.dsn", "required")
	}
	switch r := c.Redis; {
	case r.Sentinel.Enabled():
		c.validateSentinel(ch)
	case !r.Embedded:
		ch.hostPort("redis.addr", r.Addr)
	}
	if c.Redis.DB < 0 {
		ch.addf("redis.db", "must not be negative, found %d", c.Redis.DB)
	}
}

// validateSentinel checks redis.sentinel, which replaces redis.addr and
// redis.embedded: two ways to the server would leave it unclear which one the
// queue is on.
func (c *Config) validateSentinel(ch *checker) {
	r := c.Redis
	if r.Embedded {
		ch.addf("redis.embedded", "cannot be used with redis.sentinel: remove one of them")
	}
	if r.Addr != "" {
		ch.addf("redis.addr", "cannot be used with redis.sentinel: the sentinels tell the master's address; remove redis.addr")
	}
	ch.required("redis.sentinel.master_name", r.Sentinel.MasterName)
	if len(r.Sentinel.Addrs) == 0 {
		ch.addf("redis.sentinel.addrs", "at least one sentinel address such as 10.0.0.5:26379 is required")
	}
	seen := map[string]string{}
	for i, a := range r.Sentinel.Addrs {
		p := fmt.Sprintf("redis.sentinel.addrs[%d]", i)
		ch.hostPort(p, a)
		ch.unique(seen, p, a)
	}
}

// validateConnectors checks each connector and returns their names for the
// schedules that refer to them.
func (c *Config) validateConnectors(ch *checker) []string {
	seen := map[string]string{}
	var names []string
	for i, k := range c.Connectors {
		p := fmt.Sprintf("connectors[%d].", i)
		ch.name(p+"name", k.Name)
		ch.unique(seen, p+"name", k.Name)
		names = append(names, k.Name)
		ch.oneOf(p+"kind", string(k.Kind), string(KindDVCQG), string(KindOneStop))
		ch.httpURL(p+"base_url", k.BaseURL)
		for field, path := range map[string]string{"auth_path": k.AuthPath, "service_path": k.ServicePath} {
			if path != "" && !strings.HasPrefix(path, "/") {
				ch.addf(p+field, "must start with /, found %q", path)
			}
		}
		ch.required(p+"username", k.Username)
		if k.Password.IsZero() {
			ch.addf(p+"password", "required")
		}
		ch.positive(p+"timeout", k.Timeout)
		if k.RateLimit <= 0 {
			ch.addf(p+"rate_limit", "must be more than 0 requests per second, found %v", k.RateLimit)
		}
		if k.Burst < 1 {
			ch.addf(p+"burst", "must be at least 1, found %d", k.Burst)
		}
		ch.positive(p+"window", k.Window)
		if k.Overlap < 0 || (k.Window > 0 && k.Overlap >= k.Window) {
			ch.addf(p+"overlap", "must be at least 0 and shorter than window (%s), found %s", k.Window, k.Overlap)
		}
		if k.MaxRetries < 0 {
			ch.addf(p+"max_retries", "must not be negative, found %d", k.MaxRetries)
		}
		ch.positive(p+"max_lag", k.MaxLag)
		switch k.Kind {
		case KindDVCQG:
			ch.required(p+"agency_code", k.AgencyCode)
			if k.PageSize != 0 {
				ch.addf(p+"page_size", "applies to onestop connectors only: dvcqg has no paging")
			}
		case KindOneStop:
			if k.PageSize < 1 {
				ch.addf(p+"page_size", "must be at least 1, found %d", k.PageSize)
			}
		}
	}
	for i, k := range c.Connectors {
		switch {
		case k.MirrorOf == "":
		case k.MirrorOf == k.Name:
			ch.addf(fmt.Sprintf("connectors[%d].mirror_of", i), "a connector cannot mirror itself")
		case !slices.Contains(names, k.MirrorOf):
			ch.addf(fmt.Sprintf("connectors[%d].mirror_of", i), "unknown connector %q %s", k.MirrorOf, WantOneOf(k.MirrorOf, names))
		}
	}
	return names
}

func (c *Config) validateSchedules(ch *checker, connectors []string) {
	seen := map[string]string{}
	jobs := make([]string, len(Jobs))
	for i, j := range Jobs {
		jobs[i] = string(j)
	}
	for i, s := range c.Schedules {
		p := fmt.Sprintf("schedules[%d].", i)
		ch.name(p+"name", s.Name)
		ch.unique(seen, p+"name", s.Name)
		ch.cron(p+"cron", s.Cron)
		ch.oneOf(p+"job", string(s.Job), jobs...)
		switch {
		case !slices.Contains(Jobs, s.Job):
			// The job is reported above; whether it needs a connector is unknown.
		case s.Job != JobSync && s.Job != JobReconcile:
			if s.Connector != "" {
				ch.addf(p+"connector", "job %q takes no connector; only sync and reconcile do", s.Job)
			}
		case s.Connector == "":
			ch.addf(p+"connector", "required for job %q", s.Job)
		case !slices.Contains(connectors, s.Connector):
			ch.addf(p+"connector", "unknown connector %q %s", s.Connector, WantOneOf(s.Connector, connectors))
		case s.Job == JobReconcile && c.connector(s.Connector).MirrorOf == "":
			ch.addf(p+"connector", "reconcile compares a mirror with its source of truth: set mirror_of on connector %q", s.Connector)
		}
		switch z := CronZone(s.Cron); {
		case z == "":
			ch.timezone(p+"timezone", s.Timezone)
		case z != s.Timezone:
			ch.addf(p+"timezone", "%q contradicts the CRON_TZ=%s of cron; keep one", s.Timezone, z)
		}
		// Otherwise the zone is the cron's own, which the cron check loaded.
	}
}

// connector returns the connector named name, or the zero Connector.
func (c *Config) connector(name string) Connector {
	for _, k := range c.Connectors {
		if k.Name == name {
			return k
		}
	}
	return Connector{}
}

func (c *Config) validateCalendar(ch *checker) {
	if f := c.Calendar.File; f != "" {
		// Loading it here makes config check report the calendar file's own
		// problems (with their lines) before the worker starts.
		if _, err := sla.LoadCalendar(f); err != nil {
			ch.addf("calendar.file", "%v", err)
		}
	}
	ch.officeHours("calendar.office_hours", c.Calendar.OfficeHours, "calendar.cutoff", c.Calendar.Cutoff)
	ch.counting("calendar.counting", c.Calendar.Counting)
}

// counting checks a counting convention against the ones package sla knows.
func (ch *checker) counting(path string, c sla.Counting) {
	var known []string
	for _, k := range sla.Countings() {
		known = append(known, string(k))
	}
	ch.oneOf(path, string(c), known...)
}

func (c *Config) validateAgencies(ch *checker) {
	if len(c.Agencies) == 0 {
		ch.addf("agencies", "at least one agency is required: alerts need someone to go to")
	}
	codes, ids := map[string]string{}, map[string]string{}
	for i, a := range c.Agencies {
		p := fmt.Sprintf("agencies[%d].", i)
		ch.required(p+"code", a.Code)
		ch.unique(codes, p+"code", a.Code)
		ch.required(p+"name", a.Name)
		ch.officeHours(p+"office_hours", a.OfficeHours, p+"cutoff", a.Cutoff)
		ch.counting(p+"counting", a.Counting)
		ch.oneOf(p+"lateness", a.Lateness, LatenessDate, LatenessMinute)

		depts, deptCodes := map[string]string{}, []string{}
		for j, d := range a.Departments {
			dp := fmt.Sprintf("%sdepartments[%d].", p, j)
			ch.required(dp+"code", d.Code)
			ch.unique(depts, dp+"code", d.Code)
			ch.required(dp+"name", d.Name)
			deptCodes = append(deptCodes, d.Code)
		}

		hasOffice := false
		for j, o := range a.Officials {
			op := fmt.Sprintf("%sofficials[%d].", p, j)
			ch.required(op+"id", o.ID)
			ch.unique(ids, op+"id", o.ID)
			ch.required(op+"name", o.Name)
			ch.email(op+"email", o.Email)
			ch.oneOf(op+"role", string(o.Role), string(dvcwatch.RoleOfficial), string(dvcwatch.RoleDepartmentHead),
				string(dvcwatch.RoleOffice), string(dvcwatch.RoleMonitor))
			hasOffice = hasOffice || o.Role == dvcwatch.RoleOffice
			switch {
			case o.Department == "" && o.Role != dvcwatch.RoleOffice && o.Role != dvcwatch.RoleMonitor && o.Role.Valid():
				ch.addf(op+"department", "required for role %s", o.Role)
			case o.Department != "" && !slices.Contains(deptCodes, o.Department):
				ch.addf(op+"department", "unknown department %q of agency %q", o.Department, a.Code)
			}
		}

		for j, d := range a.Departments {
			hp := fmt.Sprintf("%sdepartments[%d].head", p, j)
			if !ch.required(hp, d.Head) {
				continue
			}
			k := slices.IndexFunc(a.Officials, func(o Official) bool { return o.ID == d.Head })
			switch {
			case k < 0:
				ch.addf(hp, "unknown official %q: list the head under officials of agency %q", d.Head, a.Code)
			case a.Officials[k].Role != dvcwatch.RoleDepartmentHead:
				ch.addf(hp, "official %q has role %q, not department_head", d.Head, a.Officials[k].Role)
			case a.Officials[k].Department != d.Code:
				ch.addf(hp, "official %q belongs to department %q, not %q", d.Head, a.Officials[k].Department, d.Code)
			}
		}

		if len(a.Departments) > 0 && !hasOffice {
			ch.addf(p+"officials", "no official with role office: the HĐND–UBND office must learn of every delay")
		}
	}
}

func (c *Config) validateProcedures(ch *checker) {
	seen := map[string]string{}
	for i, p := range c.Procedures {
		path := fmt.Sprintf("procedures[%d].", i)
		ch.required(path+"code", p.Code)
		ch.unique(seen, path+"code", p.Code)
		if ch.required(path+"limit", p.Limit) {
			if _, err := sla.ParseLimit(p.Limit); err != nil {
				ch.addf(path+"limit", "%v", err)
			}
		}
		switch p.Supplement {
		case "", SupplementRestart, SupplementPause:
		default:
			ch.addf(path+"supplement", "unknown value %q %s", p.Supplement, WantOneOf(string(p.Supplement), []string{string(SupplementRestart), string(SupplementPause)}))
		}
	}
}

// LogLevels are the values of log.level.
var LogLevels = []string{"debug", "info", "warn", "error"}

// BreachKindNames is every breach kind's name, in the order of the README's table.
func BreachKindNames() []string {
	var names []string
	for _, k := range dvcwatch.BreachKinds() {
		names = append(names, string(k))
	}
	return names
}

func (c *Config) validateDetect(ch *checker) {
	d := c.Detect
	if d.DueSoonHours <= 0 {
		ch.addf("detect.due_soon_hours", "must be positive")
	}
	if d.DueSoonShare <= 0 || d.DueSoonShare >= 1 {
		ch.addf("detect.due_soon_share", "must be between 0 and 1, e.g. 0.8")
	}
	if l, err := sla.ParseLimit(d.EscalateAfter); err != nil {
		ch.addf("detect.escalate_after", "%v", err)
	} else if l.Unit != sla.WorkingDays && l.Unit != sla.WorkingHours {
		ch.addf("detect.escalate_after", "%q: use working days (wd) or working hours (h), e.g. 2wd", d.EscalateAfter)
	}
	ch.positive("detect.full_sweep_every", d.FullSweepEvery)
	for _, f := range []struct {
		path, value string
		unit        sla.Unit
		example     string
	}{
		{"detect.supplement_within", d.SupplementWithin, sla.WorkingDays, "3wd"},
		{"detect.receive_within", d.ReceiveWithin, sla.WorkingHours, "8h"},
	} {
		if l, err := sla.ParseLimit(f.value); err != nil {
			ch.addf(f.path, "%v", err)
		} else if l.Unit != f.unit {
			ch.addf(f.path, "%q: use %s, e.g. %s", f.value, unitName(f.unit), f.example)
		}
	}
}

func unitName(u sla.Unit) string {
	if u == sla.WorkingDays {
		return "working days (wd)"
	}
	return "working hours (h)"
}

func (c *Config) validateNotify(ch *checker) {
	n := c.Notify
	if n.DossierURL != "" {
		if !strings.Contains(n.DossierURL, "{code}") {
			ch.addf("notify.dossier_url", "must contain {code}, where the dossier code goes")
		} else {
			ch.httpURL("notify.dossier_url", strings.ReplaceAll(n.DossierURL, "{code}", "X"))
		}
	}
	ch.positive("notify.repeat_after", n.RepeatAfter)
	if n.DeliveryWorkers < 1 || n.DeliveryWorkers > 100 {
		ch.addf("notify.delivery_workers", "%d: want 1 to 100 emails sent at once per replica", n.DeliveryWorkers)
	}
	if n.MaxRows < 1 || n.MaxRows > 200 {
		ch.addf("notify.max_rows", "%d: want 1 to 200 dossiers listed per email (the rest are counted and linked)", n.MaxRows)
	}
	if strings.ContainsAny(n.SubjectPrefix, "\r\n") {
		ch.addf("notify.subject_prefix", "must be one line")
	}
	if len(n.Escalation) == 0 {
		ch.addf("notify.escalation", "at least one rule is required")
	}
	roles := []string{string(dvcwatch.RoleOfficial), string(dvcwatch.RoleDepartmentHead), string(dvcwatch.RoleOffice)}
	for i, r := range n.Escalation {
		p := fmt.Sprintf("notify.escalation[%d].", i)
		if len(r.When.Kinds) == 0 {
			ch.addf(p+"when.kinds", "at least one breach kind is required")
		}
		for j, k := range r.When.Kinds {
			if !dvcwatch.BreachKind(k).Valid() {
				ch.addf(fmt.Sprintf("%swhen.kinds[%d]", p, j), "unknown breach kind %q %s", k, WantOneOf(k, BreachKindNames()))
			}
		}
		if r.When.MinSeverity != "" {
			ch.oneOf(p+"when.min_severity", r.When.MinSeverity, Severities...)
		}
		if o := r.When.OverdueMoreThan; o != "" {
			if _, err := sla.ParseLimit(o); err != nil {
				ch.addf(p+"when.overdue_more_than", "%v", err)
			}
		}
		if len(r.Notify) == 0 {
			ch.addf(p+"notify", "at least one role is required")
		}
		seen := map[string]string{}
		for j, role := range r.Notify {
			rp := fmt.Sprintf("%snotify[%d]", p, j)
			ch.oneOf(rp, string(role), roles...)
			ch.unique(seen, rp, string(role))
		}
	}
	ch.cron("notify.digest_cron", n.DigestCron)
	ch.cron("notify.report_cron", n.ReportCron)
	c.validateAckLinks(ch)
}

// validateAckLinks checks the settings of the acknowledge links in the mail:
// they need both the address they point to and the key that signs them, and
// a key without the address would sign nothing, which is a mistake to say.
// The key's value is never printed, only its length.
func (c *Config) validateAckLinks(ch *checker) {
	n, base := c.Notify, c.Admin.PublicURL
	if base != "" {
		ch.httpURL("admin.public_url", base)
		if u, err := url.Parse(base); err == nil && (u.RawQuery != "" || u.Fragment != "" || u.ForceQuery) {
			ch.addf("admin.public_url", "%q: want a base address without ?query or #fragment: links are made by appending /ack/…", base)
		}
	}
	switch key := n.AckKey.Reveal(); {
	case key == "" && base != "":
		ch.addf("notify.ack_key", "required when admin.public_url is set: the acknowledge links in the mail are signed with it")
	case key != "" && base == "":
		ch.addf("notify.ack_key", "set, but admin.public_url is not: no mail carries acknowledge links without the address they point to")
	case key != "" && len(key) < MinAckKeyLength:
		ch.addf("notify.ack_key", "too short: at least %d characters, found %d", MinAckKeyLength, len(key))
	}
	ch.positive("notify.ack_valid_for", n.AckValidFor)
	seen := map[string]string{}
	for i, a := range n.Admins {
		p := fmt.Sprintf("notify.admins[%d]", i)
		ch.address(p, a, "")
		ch.unique(seen, p, strings.ToLower(a))
	}
}

func (c *Config) validateSMTP(ch *checker) {
	s := c.SMTP
	ch.required("smtp.host", s.Host)
	if s.Port < 1 || s.Port > 65535 {
		ch.addf("smtp.port", "must be between 1 and 65535, found %d", s.Port)
	}
	if s.Username != "" && s.Password.IsZero() {
		ch.addf("smtp.password", "required with username")
	}
	if ch.required("smtp.from", s.From) {
		if _, err := mail.ParseAddress(s.From); err != nil {
			ch.addf("smtp.from", "invalid email address %q: %s", s.From, strings.TrimPrefix(err.Error(), "mail: "))
		}
	}
	ch.oneOf("smtp.tls", s.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	ch.positive("smtp.timeout", s.Timeout)
	ch.positive("smtp.data_timeout", s.DataTimeout)
	if s.Timeout > 0 && s.DataTimeout > 0 && s.Conversation() > MaxConversation {
		ch.addf("smtp.data_timeout", "%s plus %d × smtp.timeout (%s) must be at most %s, the longest a delivery may take",
			s.DataTimeout, smtpSteps, s.Timeout, MaxConversation)
	}
	if s.MessagesPerConnection < 1 || s.MessagesPerConnection > 1000 {
		ch.addf("smtp.messages_per_connection", "%d: want 1 (a connection per message) to 1000", s.MessagesPerConnection)
	}
}

func (c *Config) validateAdmin(ch *checker) {
	ch.hostPort("admin.listen", c.Admin.Listen)
	if len(c.Admin.Tokens) == 0 {
		ch.addf("admin.tokens", "at least one token is required: the admin API refuses requests without one")
	}
	names, tokens := map[string]string{}, map[string]string{}
	for i, t := range c.Admin.Tokens {
		p := fmt.Sprintf("admin.tokens[%d].", i)
		ch.required(p+"name", t.Name)
		ch.unique(names, p+"name", t.Name)
		ch.oneOf(p+"role", string(t.Role), string(AdminViewer), string(AdminOperator), string(AdminAdmin))
		switch v := t.Token.Reveal(); {
		case v == "":
			ch.addf(p+"token", "required")
		case len(v) < MinTokenLength:
			ch.addf(p+"token", "too short: at least %d characters, found %d", MinTokenLength, len(v))
		default:
			if first, dup := tokens[v]; dup {
				// The value itself is never printed, only where it repeats.
				ch.addf(p+"token", "same token as %s: each token must identify one holder", first)
			} else {
				tokens[v] = p + "token"
			}
		}
	}
}
