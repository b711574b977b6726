// Package admin is dvcwatch's admin HTTP server: one JSON API (/api/v1) that
// the web UI (/) and the CLI both use, health and readiness probes, and the
// Prometheus metrics. Every API request is authenticated with a configured
// bearer token (or the UI's session cookie) and checked against the token's
// role: viewers read, operators also change schedules, acknowledge breaches
// and silence them, administrators also retry and delete failed jobs. No
// credentials get 401, a role that may not get 403.
//
// It declares the small interfaces it uses (Store, Queue, Schedules), and
// the worker passes what implements them.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/breach"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
)

// Store is what the API reads and writes in the database; *store.DB is one.
type Store interface {
	AtRisk(ctx context.Context) ([]store.DepartmentRisk, error)
	OpenBreachCounts(ctx context.Context) (map[dvcwatch.BreachKind]int, error)
	NotificationCounts(ctx context.Context) (map[string]int, error)
	Notifications(ctx context.Context, limit int) ([]dvcwatch.Notification, error)
	GetNotification(ctx context.Context, id int64) (dvcwatch.Notification, error)
	BreachPage(ctx context.Context, f store.BreachFilter) (store.Listing[dvcwatch.StoredBreach], error)
	NotificationPage(ctx context.Context, f store.NotificationFilter) (store.Listing[dvcwatch.Notification], error)
	JobRunPage(ctx context.Context, f store.JobRunFilter) (store.Listing[dvcwatch.JobRun], error)
	Acknowledge(ctx context.Context, id int64, official, reason string, at time.Time) (dvcwatch.StoredBreach, error)
	FailedTasks(ctx context.Context, openOnly bool, limit int) ([]dvcwatch.FailedTask, error)
	CountOpenFailedTasks(ctx context.Context) (int, error)
	OpenFailedTask(ctx context.Context, queue, id string) (dvcwatch.FailedTask, bool, error)
	ResolveFailedTasks(ctx context.Context, queue string, ids []string, resolution dvcwatch.Resolution, by string) (int, error)
	SetScheduleCron(ctx context.Context, schedule, cron, by string) error
	SetSchedulePaused(ctx context.Context, schedule string, paused bool, by string) error
	AddSilence(ctx context.Context, s dvcwatch.Silence) (dvcwatch.Silence, error)
	Silences(ctx context.Context, f store.SilenceFilter) ([]dvcwatch.Silence, error)
	ActiveSilences(ctx context.Context, at time.Time) ([]dvcwatch.Silence, error)
	GetSilence(ctx context.Context, id int64) (dvcwatch.Silence, error)
	ExpireSilence(ctx context.Context, id int64, at time.Time, by string) (dvcwatch.Silence, bool, error)
	DossierFile(ctx context.Context, key dvcwatch.DossierKey) (store.DossierFile, error)
	DossiersByCode(ctx context.Context, code string) ([]dvcwatch.Dossier, error)
	Tallies(ctx context.Context, q dvcwatch.TallyQuery) ([]dvcwatch.Tally, error)
	TallyDossiers(ctx context.Context, q dvcwatch.DrillQuery) ([]dvcwatch.DossierKey, int, error)
	Verdicts(ctx context.Context, keys []dvcwatch.DossierKey) ([]dvcwatch.Verdict, error)
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// Queue is the job queue as administrators see it; jobs.Inspector is one. A
// queue nothing was ever enqueued to is reported as asynq.ErrQueueNotFound.
type Queue interface {
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
	ListPendingTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	ListActiveTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	ListScheduledTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	ListRetryTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	ListArchivedTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	ListCompletedTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	RunTask(queue, id string) error
	RunAllArchivedTasks(queue string) (int, error)
	DeleteTask(queue, id string) error
}

// Schedules are the running scheduler's entries; *scheduler.Scheduler is one.
type Schedules interface {
	Entries() []scheduler.Entry
	RunNow(ctx context.Context, name string) (string, error)
	Refresh()
}

// Requeue puts a failed task back on the queue from its SQL record, when the
// queue no longer holds it (past asynq's archive retention).
type Requeue func(ctx context.Context, f dvcwatch.FailedTask) error

// Options build a Server.
type Options struct {
	Tokens []config.Token
	Store  Store
	Queue  Queue
	// Queues are the queues dvcwatch's tasks wait in (jobs.Queues: the jobs',
	// then the deliveries'); the job views show them all.
	Queues    []string
	Schedules Schedules
	Requeue   Requeue
	// Health is the connectors' health and the mail server's state; nil
	// shows none.
	Health Health
	// Ready reports whether the database and Redis answer (for /readyz).
	Ready func(ctx context.Context) error
	// Metrics serves /metrics; nil serves none.
	Metrics http.Handler
	// LoginFailures failed logins or bearer tokens from one client address
	// within LoginWindow get it 429 until it earns a try back (one every
	// LoginWindow/LoginFailures); zero: 10 in 5 minutes.
	LoginFailures int
	LoginWindow   time.Duration
	// SecureCookies is admin.secure_cookies: the session cookie is Secure
	// even on a plain connection (a TLS proxy stands in front); on a TLS
	// connection this process serves it is Secure anyway.
	SecureCookies bool
	// MinInterval is scheduler.min_interval: a schedule may not be set to
	// fire more often; zero refuses none.
	MinInterval time.Duration
	// Session is how long a UI login lasts; zero: 8 hours.
	Session time.Duration
	Logger  *slog.Logger
	// Clock stamps acknowledgements and silences, judges which silences are
	// active, and times UI sessions; nil: the wall clock.
	Clock clock.Clock
	// Ack serves the pages of the acknowledge links in the mail; the zero
	// value says they are off.
	Ack AckPage
	// Names gives agencies, departments and officials their configured
	// names, so that people read names rather than codes; nil shows codes.
	Names Names
	// Rules are the rules detection judges an agency's dossiers by
	// (detect.Detector.Rules), to explain a dossier's due; nil explains
	// none.
	Rules func(agency string) breach.Rules
	// Officials says whether an id is a configured official's, the only
	// ones a breach may be acknowledged for; nil: none is.
	Officials func(id string) bool
	// Agencies are the configured agencies' codes, in configuration order:
	// the report page's choices, the first its default.
	Agencies []string
}

// Names are the configured names of agencies, departments and officials
// (directory.Directory): each returns the code itself when it is not
// configured; Name, a group of the results of any level (procedures too),
// returns "" then.
type Names interface {
	AgencyName(code string) string
	DepartmentName(agency, code string) string
	OfficialName(id string) string
	Name(level dvcwatch.TallyLevel, agency, code string) string
}

// Server is the admin HTTP server's handler.
type Server struct {
	opts Options
	auth *authenticator
	// throttle counts failed logins and bearer tokens per client address.
	throttle *throttle
	log      *slog.Logger
	// readyLogged is the last readiness error logged ("" ready).
	readyMu     sync.Mutex
	readyLogged string
	now         func() time.Time // opts.Clock's
	mux         *http.ServeMux
}

// New builds the server; it fails if no valid token is configured.
func New(opts Options) (*Server, error) {
	opts.Clock = clock.OrWall(opts.Clock)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Session <= 0 {
		opts.Session = 8 * time.Hour
	}
	auth, err := newAuthenticator(opts.Tokens, opts.Session, opts.Clock.Now)
	if err != nil {
		return nil, err
	}
	if opts.Store != nil {
		auth.revoked = opts.Store.SessionRevoked
	}
	s := &Server{opts: opts, auth: auth, log: opts.Logger, now: opts.Clock.Now, mux: http.NewServeMux(),
		throttle: newThrottle(opts.LoginFailures, opts.LoginWindow, opts.Logger)}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	m.HandleFunc("GET /readyz", s.readyz)
	if s.opts.Metrics != nil {
		m.Handle("GET /metrics", s.opts.Metrics)
	}

	m.HandleFunc("POST /api/v1/session", s.login)
	m.HandleFunc("DELETE /api/v1/session", s.logout)
	api := func(pattern string, role Role, h func(http.ResponseWriter, *http.Request, Principal) error) {
		m.HandleFunc(pattern, s.guard(role, h))
	}
	api("GET /api/v1/whoami", RoleViewer, s.whoami)
	api("GET /api/v1/dashboard", RoleViewer, s.dashboard)
	api("GET /api/v1/health", RoleViewer, s.health)
	api("GET /api/v1/notifications", RoleViewer, s.listNotifications)
	api("GET /api/v1/notifications/{id}", RoleViewer, s.getNotification)
	api("GET /api/v1/dossiers", RoleViewer, s.findDossiers)
	api("GET /api/v1/dossiers/{source}/{code}", RoleViewer, s.getDossier)
	api("GET /api/v1/report", RoleViewer, s.getReport)
	api("GET /api/v1/report/trend", RoleViewer, s.getReportTrend)
	api("GET /api/v1/report/dossiers", RoleViewer, s.getReportDossiers)
	api("GET /api/v1/report.xlsx", RoleViewer, s.getReportWorkbook)
	api("GET /api/v1/breaches", RoleViewer, s.listBreaches)
	api("POST /api/v1/breaches/{id}/ack", RoleOperator, s.ackBreach)
	api("GET /api/v1/silences", RoleViewer, s.listSilences)
	api("GET /api/v1/silences/{id}", RoleViewer, s.getSilence)
	api("POST /api/v1/silences", RoleOperator, s.addSilence)
	api("POST /api/v1/silences/{id}/expire", RoleOperator, s.expireSilence)
	api("GET /api/v1/jobs", RoleViewer, s.listJobs)
	api("GET /api/v1/jobs/failed", RoleViewer, s.listFailed)
	api("GET /api/v1/jobs/runs", RoleViewer, s.listRuns)
	api("POST /api/v1/jobs/retry-archived", RoleAdmin, s.retryArchived)
	api("POST /api/v1/jobs/{id}/retry", RoleAdmin, s.retryJob)
	api("DELETE /api/v1/jobs/{id}", RoleAdmin, s.deleteJob)
	api("GET /api/v1/schedules", RoleViewer, s.listSchedules)
	api("POST /api/v1/schedules/{name}/run", RoleOperator, s.runSchedule)
	api("POST /api/v1/schedules/{name}/pause", RoleOperator, s.pauseSchedule)
	api("POST /api/v1/schedules/{name}/resume", RoleOperator, s.resumeSchedule)
	api("PUT /api/v1/schedules/{name}", RoleOperator, s.setSchedule)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no such API: %s %s", r.Method, r.URL.Path))
	})
	s.ackRoutes(m)
	s.uiRoutes(m)
}

// guard authenticates the request, checks the role and maps the handler's
// error to a status: httpError's own, ErrNotFound 404, anything else 500
// (logged, and answered without internals).
func (s *Server) guard(role Role, h func(http.ResponseWriter, *http.Request, Principal) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		bearer := r.Header.Get("Authorization") != ""
		if bearer && s.throttle.refuse(w, s.now(), client(r)) {
			return
		}
		p, err := s.auth.authenticate(r)
		if bearer && errors.Is(err, errBadCredentials) {
			s.throttle.fail(s.now(), "bearer token", client(r))
		}
		// A forged cookie is refused once its token's name is throttled;
		// a good session of that token is not (see throttle).
		var forged forgedSession
		if errors.As(err, &forged) {
			if s.throttle.refuse(w, s.now(), client(r), tokenName(forged.name)) {
				return
			}
			s.throttle.fail(s.now(), "session cookie", client(r), tokenName(forged.name))
		}
		if errors.Is(err, errSessionUnchecked) {
			s.log.Error("admin API: session check", "method", r.Method, "path", r.URL.Path, "err", err)
			writeError(w, http.StatusServiceUnavailable, errSessionUnchecked)
			return
		}
		if errors.Is(err, errNoRequestHeader) {
			writeError(w, http.StatusForbidden, err)
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dvcwatch"`)
			writeError(w, http.StatusUnauthorized, err)
			return
		}
		if p.Role < role {
			writeError(w, http.StatusForbidden, fmt.Errorf("token %q has role %s; %s %s needs %s", p.Name, p.Role, r.Method, r.URL.Path, role))
			return
		}
		err = h(w, r, p)
		var he httpError
		switch {
		case err == nil:
		case errors.As(err, &he):
			writeError(w, he.status, he.err)
		case errors.Is(err, dvcwatch.ErrNotFound), errors.Is(err, scheduler.ErrUnknownSchedule), errors.Is(err, asynq.ErrTaskNotFound):
			writeError(w, http.StatusNotFound, err)
		default:
			s.log.Error("admin API", "method", r.Method, "path", r.URL.Path, "by", p.Name, "err", err)
			writeError(w, http.StatusInternalServerError, errors.New("internal error; see the server's log"))
		}
	}
}

// audit logs a change an administrator or operator made.
func (s *Server) audit(p Principal, action string, args ...any) {
	s.log.Info("admin action", append([]any{"action", action, "by", p.Name, "role", p.Role.String()}, args...)...)
}

// Unreachable is a dependency that does not answer, as Options.Ready
// reports it (alone, or among others joined with an Unwrap() []error):
// /readyz names the dependency to anyone, and only the log gets Err (a
// database's error names its user, database and address).
type Unreachable struct {
	Dependency string // "database", "redis"
	Err        error
}

func (u *Unreachable) Error() string { return u.Dependency + " unreachable: " + u.Err.Error() }
func (u *Unreachable) Unwrap() error { return u.Err }

// unreachable returns the dependencies err names as Unreachable.
func unreachable(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if u, ok := e.(*Unreachable); ok {
			if !slices.Contains(out, u.Dependency) {
				out = append(out, u.Dependency)
			}
			return
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := x.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// readyz answers 200 "ready", or 503 naming only which dependency is down
// ("not ready: database unreachable"): it needs no credentials, so the
// error itself goes to the log, once each time it changes, and to a caller
// with a configured token or session ("not ready: <error>").
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready == nil {
		writeText(w, http.StatusOK, "ready\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	err := s.opts.Ready(ctx)
	s.readyMu.Lock()
	if msg := errText(err); msg != s.readyLogged {
		s.readyLogged = msg
		if err != nil {
			s.log.Warn("admin: not ready", "err", err)
		} else {
			s.log.Info("admin: ready")
		}
	}
	s.readyMu.Unlock()
	if err == nil {
		writeText(w, http.StatusOK, "ready\n")
		return
	}
	if s.authenticated(r) {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
		return
	}
	msg := "not ready"
	for i, d := range unreachable(err) {
		msg += map[bool]string{true: ": ", false: "; "}[i == 0] + d + " unreachable"
	}
	writeText(w, http.StatusServiceUnavailable, msg+"\n")
}

// authenticated says whether r carries a configured token or a live
// session, for an answer anyone may get but those get in more detail. A
// wrong token counts as a failure, as on the API; a throttled client, or a
// session that cannot be checked, is anonymous.
func (s *Server) authenticated(r *http.Request) bool {
	if r.Header.Get("Authorization") == "" && !hasCookie(r, sessionCookie) {
		return false
	}
	if s.throttle.wait(s.now(), client(r)) > 0 {
		return false
	}
	_, err := s.auth.authenticate(r)
	var forged forgedSession
	switch {
	case errors.As(err, &forged):
		s.throttle.fail(s.now(), "session cookie", client(r), tokenName(forged.name))
	case errors.Is(err, errBadCredentials) && r.Header.Get("Authorization") != "":
		s.throttle.fail(s.now(), "bearer token", client(r))
	}
	return err == nil
}

func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type loginRequest struct {
	Token string `json:"token"`
}

// login exchanges a token for the UI's session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.throttle.refuse(w, s.now(), client(r)) {
		return
	}
	var req loginRequest
	if err := decodeLogin(r, &req); err != nil {
		var he httpError
		if errors.As(err, &he) {
			writeError(w, he.status, he.err)
		} else {
			writeError(w, http.StatusBadRequest, err)
		}
		return
	}
	p, ok := s.auth.token(req.Token)
	if !ok {
		// Logged by the throttle, once per burst: a line per attempt would
		// let a guesser flood the log.
		s.throttle.fail(s.now(), "login", client(r))
		writeError(w, http.StatusUnauthorized, errors.New("unknown token"))
		return
	}
	value, expires := s.auth.newSession(p)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", Expires: expires, HttpOnly: true,
		Secure: s.secureCookie(r), SameSite: http.SameSiteStrictMode,
	})
	s.audit(p, "login")
	writeJSON(w, http.StatusOK, Whoami{Name: p.Name, Role: p.Role.String()})
}

// secureCookie says whether the session cookie is sent over TLS only: when
// this process terminates TLS, or admin.secure_cookies says so (a proxy
// terminates it).
func (s *Server) secureCookie(r *http.Request) bool {
	return r.TLS != nil || s.opts.SecureCookies
}

// logout clears the browser's cookie and ends its session on every replica:
// its id is recorded as revoked until the session would have expired, so a
// copy of the cookie is refused too.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookie(r), SameSite: http.SameSiteStrictMode})
	if c, err := r.Cookie(sessionCookie); err == nil && s.opts.Store != nil {
		if sess, ok := s.auth.cookie(c.Value); ok {
			if err := s.opts.Store.RevokeSession(r.Context(), sess.id, sess.expires); err != nil {
				s.log.Error("admin logout: the session could not be revoked", "by", sess.Name, "err", err)
				writeError(w, http.StatusInternalServerError, errors.New("logged out of this browser, but the session could not be ended on the server; try again"))
				return
			}
			s.audit(sess.Principal, "logout")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// Whoami is who the request's credentials belong to.
type Whoami struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p Principal) error {
	writeJSON(w, http.StatusOK, Whoami{Name: p.Name, Role: p.Role.String()})
	return nil
}
