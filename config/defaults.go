package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// applyDefaults fills every field the file leaves out. A default applies only when
// the field is absent, never when it is present with a zero value, so that
// "max_retries: 0" means no retries and "rate_limit: 0" is reported, not replaced.
func (c *Config) applyDefaults(set func(path string) bool) {
	def := func(path string, apply func()) {
		if !set(path) {
			apply()
		}
	}
	def("database.driver", func() { c.Database.Driver = DriverSQLite })
	def("database.dsn", func() {
		if c.Database.Driver == DriverSQLite {
			c.Database.DSN = NewSecret("dvcwatch.db")
		}
	})
	def("redis.addr", func() {
		// With sentinels the master's address is theirs to tell: a default
		// here would be a second, conflicting answer.
		if !c.Redis.Sentinel.Enabled() {
			c.Redis.Addr = "127.0.0.1:6379"
		}
	})

	for i := range c.Connectors {
		k, p := &c.Connectors[i], fmt.Sprintf("connectors[%d].", i)
		k.BaseURL = strings.TrimRight(k.BaseURL, "/")
		def(p+"auth_path", func() {
			if k.Kind == KindDVCQG {
				k.AuthPath = "/api/auth"
			}
		})
		def(p+"service_path", func() {
			if k.Kind == KindDVCQG {
				k.ServicePath = "/api/service"
			}
		})
		def(p+"timeout", func() { k.Timeout = 30 * time.Second })
		def(p+"rate_limit", func() { k.RateLimit = 5 })
		def(p+"burst", func() { k.Burst = 1 })
		def(p+"page_size", func() {
			if k.Kind == KindOneStop {
				k.PageSize = 100
			}
		})
		def(p+"window", func() { k.Window = 24 * time.Hour })
		def(p+"overlap", func() { k.Overlap = 10 * time.Minute })
		def(p+"max_retries", func() { k.MaxRetries = 5 })
		def(p+"max_lag", func() { k.MaxLag = time.Hour })
	}

	for i := range c.Schedules {
		s := &c.Schedules[i]
		def(fmt.Sprintf("schedules[%d].timezone", i), func() {
			s.Timezone = CronZone(s.Cron)
			if s.Timezone == "" {
				s.Timezone = DefaultTimezone
			}
		})
	}

	def("calendar.office_hours", func() { c.Calendar.OfficeHours = []string{"07:30-11:30", "13:30-17:00"} })
	def("calendar.cutoff", func() { c.Calendar.Cutoff = "17:00" })
	def("calendar.counting", func() { c.Calendar.Counting = sla.DefaultCounting })
	for i := range c.Agencies {
		a, p := &c.Agencies[i], fmt.Sprintf("agencies[%d].", i)
		def(p+"office_hours", func() { a.OfficeHours = append([]string(nil), c.Calendar.OfficeHours...) })
		def(p+"cutoff", func() { a.Cutoff = c.Calendar.Cutoff })
		def(p+"counting", func() { a.Counting = c.Calendar.Counting })
		def(p+"lateness", func() { a.Lateness = LatenessDate })
		for j := range a.Officials {
			o := &a.Officials[j]
			def(fmt.Sprintf("%sofficials[%d].role", p, j), func() { o.Role = dvcwatch.RoleOfficial })
		}
	}

	def("detect.due_soon_hours", func() { c.Detect.DueSoonHours = 8 })
	def("detect.due_soon_share", func() { c.Detect.DueSoonShare = 0.8 })
	def("detect.escalate_after", func() { c.Detect.EscalateAfter = "2wd" })
	def("detect.full_sweep_every", func() { c.Detect.FullSweepEvery = 24 * time.Hour })
	def("detect.supplement_within", func() { c.Detect.SupplementWithin = "3wd" })
	def("detect.receive_within", func() { c.Detect.ReceiveWithin = "8h" })

	def("notify.repeat_after", func() { c.Notify.RepeatAfter = 24 * time.Hour })
	def("notify.max_rows", func() { c.Notify.MaxRows = 30 })
	def("notify.office_hours_only", func() { c.Notify.OfficeHoursOnly = true })
	def("notify.escalation", func() { c.Notify.Escalation = DefaultEscalation() })
	// 07:30 on weekdays: the office starts the day with the list of delays.
	def("notify.digest_cron", func() { c.Notify.DigestCron = "30 7 * * 1-5" })
	// 07:00 on the 1st: last month's results, before the first working
	// morning of the month.
	def("notify.report_cron", func() { c.Notify.ReportCron = "0 7 1 * *" })
	def("notify.ack_valid_for", func() { c.Notify.AckValidFor = 7 * 24 * time.Hour })
	def("notify.delivery_workers", func() { c.Notify.DeliveryWorkers = 4 })

	def("smtp.port", func() { c.SMTP.Port = 587 })
	def("smtp.tls", func() { c.SMTP.TLS = TLSStartTLS })
	// Below shutdown_timeout (25 s), which validation requires.
	def("smtp.timeout", func() { c.SMTP.Timeout = 20 * time.Second })
	// RFC 5321 §4.5.3.2.6: a client waits 10 minutes for the reply to the
	// end of the message.
	def("smtp.data_timeout", func() { c.SMTP.DataTimeout = 10 * time.Minute })
	def("smtp.messages_per_connection", func() { c.SMTP.MessagesPerConnection = DefaultMessagesPerConnection })

	def("scheduler.min_interval", func() { c.Scheduler.MinInterval = time.Minute })

	def("admin.listen", func() { c.Admin.Listen = "127.0.0.1:8080" })
	// Links are built by appending /ack/<token>.
	c.Admin.PublicURL = strings.TrimRight(c.Admin.PublicURL, "/")
	// Off the loopback, browsers reach the console over a network, which
	// must be HTTPS; on it, over plain HTTP, unless a TLS proxy is in front.
	def("admin.secure_cookies", func() {
		c.Admin.SecureCookies = !loopback(c.Admin.Listen) || strings.HasPrefix(strings.ToLower(c.Admin.PublicURL), "https://")
	})
	def("shutdown_timeout", func() { c.ShutdownTimeout = 25 * time.Second })
	def("log.level", func() { c.Log.Level = "info" })
	def("log.format", func() { c.Log.Format = "text" })
}

// DefaultEscalation returns the rules used when notify.escalation is absent: the
// official first, the department head once the dossier or the step is
// overdue, the office after two working days overdue; the head and the office
// for what the agency answers for as a whole (apology letters, reschedules,
// repeated supplement requests, a receipt promising more than the law
// allows); the office for the national portal's copy. All but the last only
// while the dossier is open: a dossier finished or returned late, and the
// step and apology breaches of a finished one, are history, reported in the
// office's daily summary and the indexes; mailing them would flood every
// head with the backlog of the first sweep.
func DefaultEscalation() []Rule {
	o, h, office := dvcwatch.RoleOfficial, dvcwatch.RoleDepartmentHead, dvcwatch.RoleOffice
	late := []string{"overdue", "step_overdue", "new_date_missed"}
	duties := []string{"no_apology", "late_apology", "rescheduled_twice", "supplemented_twice", "late_supplement_request",
		"due_beyond_limit"}
	return []Rule{
		{When: Match{Kinds: []string{"due_soon"}}, Notify: []dvcwatch.Role{o}},
		{When: Match{Kinds: late, Open: true}, Notify: []dvcwatch.Role{o, h}},
		{When: Match{Kinds: late, OverdueMoreThan: "2wd", Open: true}, Notify: []dvcwatch.Role{o, h, office}},
		{When: Match{Kinds: duties, Open: true}, Notify: []dvcwatch.Role{h, office}},
		// Receiving online submissions is the one-stop desk's duty, which the
		// office oversees.
		{When: Match{Kinds: []string{"not_received", "not_synced", "portal_mismatch"}}, Notify: []dvcwatch.Role{office}},
	}
}

// loopback says whether the host of a host:port is a loopback address or
// localhost; an empty host (every interface) is not.
func loopback(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
