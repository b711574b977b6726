// Package failure finds why a job failed, as an operator acts on it (a
// dvcwatch.Cause): the portal rejected the credentials, is unreachable or
// busy, answered something unreadable; the database or the mail server is
// down; the mail server rejected a recipient; a task's payload is broken.
// It is the one place that knows the errors of the other packages: the
// worker records a failed task's cause with it, connector health keeps a
// connector's, and the admin API groups failures by it.
//
// Of holds a live error and asks its chain (errors.Is and errors.As) for the
// sentinels and types the packages export. OfText reads an error's message,
// for what only the message survives of: failures recorded before causes
// were stored, and asynq's archived tasks (their last error is text). The
// markers it looks for are the packages' own wording, which their tests pin:
//
//	portal       a connector error, `<kind> "<name>": <call>: …` (connectors/httpx.Error)
//	  credentials  "bad credentials" (both connectors' login), "credentials rejected" (httpx.ErrRenew), "HTTP 401"
//	  busy         "HTTP 429", "HTTP 503", "error_code 429", "error_code 503", "rate_limited",
//	               "temporarily_unavailable", "portal asks to wait"
//	  bad reply    "malformed", "not valid JSON", "unusable item", "unusable record", "answered with dossier",
//	               "does not move forward", "more dossiers than it lists", "too many records"
//	  refused      "HTTP 4xx" (403 and the like), "portal error_code", or permanent ("skip retry")
//	  unreachable  anything else: a retried network, TLS or 5xx failure ("gave up after", "no complete reply")
//	mail         "rejected by the SMTP server", "invalid email message" (email.ErrRejected, ErrInvalidMessage);
//	             "possibly delivered: the server did not answer" (email.ErrPossiblySent);
//	             "send email … via …" otherwise (email.Sender's wording)
//	database     "failed to connect to `" (pgconn), "SQLSTATE 08", "SQLSTATE 57P0", "SQLSTATE 53300",
//	             "database is locked", "SQLITE_BUSY", "unable to open database file", "driver: bad connection",
//	             "sql: connection is already closed"
//	payload      "bad payload", "invalid payload" (jobs.ErrBadPayload, ErrInvalidPayload)
//
// Both functions are table-tested on the same errors, so that a live error
// and its stored text land in the same group.
package failure

import (
	"errors"
	"regexp"
	"strings"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/connectors/httpx"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/store"
)

// Of returns the cause of err; "" for nil.
func Of(err error) dvcwatch.Cause {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var portal *httpx.Error
	switch {
	case errors.Is(err, jobs.ErrBadPayload), errors.Is(err, jobs.ErrInvalidPayload):
		return dvcwatch.CauseBadPayload
	case errors.As(err, &portal):
		return portalCause(msg, portalFacts{
			credentials: errors.Is(err, httpx.ErrRenew),
			busy:        errors.Is(err, connectors.ErrRateLimited),
			permanent:   errors.Is(err, connectors.ErrPermanent),
		})
	case errors.Is(err, email.ErrRejected), errors.Is(err, email.ErrInvalidMessage):
		return dvcwatch.CauseMailRejected
	case errors.Is(err, email.ErrPossiblySent):
		return dvcwatch.CauseMailUncertain
	case store.IsUnavailable(err):
		return dvcwatch.CauseDatabase
	}
	// No sentinel says more: a transient SMTP failure, say, is known by the
	// sender's wording only.
	return OfText(msg)
}

// OfText returns the cause an error's message shows, by the markers in the
// package documentation; CauseUnknown when none matches, "" for "".
func OfText(msg string) dvcwatch.Cause {
	if strings.TrimSpace(msg) == "" {
		return ""
	}
	switch {
	case has(msg, "bad payload", "invalid payload"):
		return dvcwatch.CauseBadPayload
	case connectorError.MatchString(msg):
		return portalCause(msg, portalFacts{permanent: strings.Contains(msg, skipRetry)})
	case has(msg, "rejected by the SMTP server", "invalid email message"):
		return dvcwatch.CauseMailRejected
	case has(msg, "possibly delivered: the server did not answer"):
		return dvcwatch.CauseMailUncertain
	case sendEmail.MatchString(msg):
		return dvcwatch.CauseMailUnreachable
	case has(msg, "failed to connect to `", "SQLSTATE 08", "SQLSTATE 57P0", "SQLSTATE 53300", "database is locked",
		"SQLITE_BUSY", "unable to open database file", "driver: bad connection", "sql: connection is already closed"):
		return dvcwatch.CauseDatabase
	}
	return dvcwatch.CauseUnknown
}

// portalFacts are what a live error's chain says beyond its message.
type portalFacts struct {
	credentials, busy, permanent bool
}

// portalCause tells a connector's failures apart. The connectors export no
// sentinel for most of these distinctions (a login refused, a reply that
// cannot be read), so the message decides where the chain does not.
func portalCause(msg string, f portalFacts) dvcwatch.Cause {
	switch {
	case f.credentials || has(msg, "bad credentials", "credentials rejected", "HTTP 401"):
		return dvcwatch.CausePortalCredentials
	case f.busy || has(msg, "HTTP 429", "HTTP 503", "error_code 429", "error_code 503", `"rate_limited"`,
		`"temporarily_unavailable"`, "portal asks to wait"):
		return dvcwatch.CausePortalBusy
	case has(msg, "malformed", "not valid JSON", "unusable item", "unusable record", "answered with dossier",
		"does not move forward", "more dossiers than it lists", "too many records"):
		return dvcwatch.CausePortalBadReply
	case f.permanent || clientError.MatchString(msg) || strings.Contains(msg, "portal error_code"):
		return dvcwatch.CausePortalRefused
	default:
		// What the connectors retry and finally give up on: the network,
		// TLS, timeouts, 5xx.
		return dvcwatch.CausePortalUnreachable
	}
}

// skipRetry is asynq.SkipRetry's message, which ends the stored error of a
// task archived at once: for a connector, a permanent failure.
const skipRetry = "skip retry for the task"

var (
	// connectorError matches httpx.Error's prefix, `<kind> "<name>": `, at the
	// start of the message or after a wrapper's "...: ".
	connectorError = regexp.MustCompile(`(?:^|: )(?:` + string(config.KindDVCQG) + `|` + string(config.KindOneStop) + `) "[^"]*": `)
	// sendEmail matches email.Sender's "send email <id> via <host:port>: ".
	sendEmail = regexp.MustCompile(`send email \S* ?via \S+: `)
	// clientError matches a 4xx reply the connectors quote as "HTTP 4xx".
	clientError = regexp.MustCompile(`HTTP 4\d\d`)
)

func has(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
