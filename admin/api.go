package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/scheduler"
	"github.com/dvcwatch/dvcwatch/store"
)

// Dashboard is the overview: where dossiers are at risk, what is broken,
// what was sent, what the queue holds.
type Dashboard struct {
	AtRisk        []DepartmentRisk `json:"at_risk"`
	OpenBreaches  map[string]int   `json:"open_breaches"` // by kind
	Notifications map[string]int   `json:"notifications"` // pending, sent, failed
	Recent        []Notification   `json:"recent"`
	Queue         QueueSizes       `json:"queue"`
	FailedOpen    int              `json:"failed_open"` // failed tasks no administrator has handled
}

// DepartmentRisk counts a department's open dossiers at risk.
type DepartmentRisk struct {
	Agency      string `json:"agency"`
	Department  string `json:"department"`
	DueSoon     int    `json:"due_soon"`
	Overdue     int    `json:"overdue"`
	StepOverdue int    `json:"step_overdue"`
}

// QueueSizes counts the queue's tasks by state.
type QueueSizes struct {
	Pending   int `json:"pending"`
	Active    int `json:"active"`
	Scheduled int `json:"scheduled"`
	Retry     int `json:"retry"`
	Archived  int `json:"archived"`
	Completed int `json:"completed"`
}

// Notification is an email of the outbox; Text and HTML are the email as it
// was sent, filled in by GET /api/v1/notifications/{id} only.
type Notification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Recipient string     `json:"recipient"`
	Email     string     `json:"email"`
	Subject   string     `json:"subject"`
	Items     int        `json:"items"`
	State     string     `json:"state"` // pending, sending, sent, failed
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
	Text      string     `json:"text,omitempty"`
	HTML      string     `json:"html,omitempty"`
}

func notificationView(n dvcwatch.Notification, bodies bool) Notification {
	v := Notification{ID: n.ID, Kind: string(n.Kind), Recipient: n.Recipient, Email: n.Email, Subject: n.Subject,
		Items: n.Items, Attempts: n.Attempts, LastError: n.LastError, CreatedAt: n.CreatedAt,
		SentAt: timePtr(n.SentAt), FailedAt: timePtr(n.FailedAt)}
	switch {
	case !n.SentAt.IsZero():
		v.State = "sent"
	case !n.FailedAt.IsZero():
		v.State = "failed"
	case !n.SendingAt.IsZero():
		v.State = "sending"
	default:
		v.State = "pending"
	}
	if bodies {
		v.Text, v.HTML = n.Text, n.HTML
	}
	return v
}

// listedNotification is a notification as lists show it: without its bodies.
func listedNotification(n dvcwatch.Notification) Notification { return notificationView(n, false) }

// views maps xs to their API views; never nil, so that an empty list is
// answered [] rather than null.
func views[T, V any](xs []T, view func(T) V) []V {
	out := make([]V, 0, len(xs))
	for _, x := range xs {
		out = append(out, view(x))
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, _ Principal) error {
	ctx := r.Context()
	var d Dashboard
	risks, err := s.opts.Store.AtRisk(ctx)
	if err != nil {
		return err
	}
	d.AtRisk = views(risks, func(x store.DepartmentRisk) DepartmentRisk { return DepartmentRisk(x) })
	open, err := s.opts.Store.OpenBreachCounts(ctx)
	if err != nil {
		return err
	}
	d.OpenBreaches = map[string]int{}
	for k, n := range open {
		d.OpenBreaches[string(k)] = n
	}
	if d.Notifications, err = s.opts.Store.NotificationCounts(ctx); err != nil {
		return err
	}
	recent, err := s.opts.Store.Notifications(ctx, 10)
	if err != nil {
		return err
	}
	d.Recent = views(recent, listedNotification)
	if d.Queue, err = s.queueSizes(); err != nil {
		return err
	}
	if d.FailedOpen, err = s.opts.Store.CountOpenFailedTasks(ctx); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) queueSizes() (QueueSizes, error) {
	info, err := s.opts.Queue.GetQueueInfo(s.opts.QueueName)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return QueueSizes{}, nil // nothing was ever enqueued
	}
	if err != nil {
		return QueueSizes{}, fmt.Errorf("queue %s: %w", s.opts.QueueName, err)
	}
	return QueueSizes{Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled, Retry: info.Retry,
		Archived: info.Archived, Completed: info.Completed}, nil
}

// limit reads the "limit" query parameter: def if absent, at most max.
func limit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit=%q: want a whole number from 1 to %d", v, max)
	}
	return n, nil
}

func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("%q is not an id", v)
	}
	return id, nil
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 50, 1000)
	if err != nil {
		return err
	}
	ns, err := s.opts.Store.Notifications(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(ns, listedNotification))
	return nil
}

func (s *Server) getNotification(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := s.opts.Store.GetNotification(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, notificationView(n, true))
	return nil
}

// Breach is a recorded breach.
type Breach struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Label      string     `json:"label"` // the kind in Vietnamese
	Source     string     `json:"source"`
	Code       string     `json:"code"`
	Step       int        `json:"step,omitempty"`
	Agency     string     `json:"agency"`
	Department string     `json:"department"`
	Official   string     `json:"official"`
	Severity   string     `json:"severity"`
	StartedAt  time.Time  `json:"started_at"`
	DueAt      *time.Time `json:"due_at,omitempty"`
	Detail     string     `json:"detail"`
	DetectedAt time.Time  `json:"detected_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

func breachView(b dvcwatch.StoredBreach) Breach {
	return Breach{ID: b.ID, Kind: string(b.Kind), Label: b.Kind.Vietnamese(), Source: b.Key.Source, Code: b.Key.Code,
		Step: b.StepSeq, Agency: b.Agency, Department: b.Department, Official: b.Official, Severity: string(b.Severity),
		StartedAt: b.StartedAt, DueAt: timePtr(b.DueAt), Detail: b.Detail, DetectedAt: b.DetectedAt,
		ResolvedAt: timePtr(b.ResolvedAt)}
}

func (s *Server) listBreaches(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 200, 1000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.BreachFilter{OpenOnly: q.Get("all") == "", Agency: q.Get("agency"), Official: q.Get("official"),
		Kind: dvcwatch.BreachKind(q.Get("kind")), Limit: n}
	if f.Kind != "" && !f.Kind.Valid() {
		return badRequest("kind=%q: unknown breach kind", f.Kind)
	}
	bs, err := s.opts.Store.Breaches(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(bs, breachView))
	return nil
}

// AckRequest acknowledges a breach on behalf of an official.
type AckRequest struct {
	Official string `json:"official"`
	Reason   string `json:"reason"`
}

func (s *Server) ackBreach(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req AckRequest
	if err := decodeJSON(r, &req); err != nil {
		return badRequest("%v", err)
	}
	if strings.TrimSpace(req.Official) == "" || strings.TrimSpace(req.Reason) == "" {
		return badRequest("official and reason are required")
	}
	b, err := s.opts.Store.Acknowledge(r.Context(), id, req.Official, req.Reason, s.now())
	if err != nil {
		return err
	}
	s.audit(p, "acknowledge breach", "breach", id, "official", req.Official)
	writeJSON(w, http.StatusOK, breachView(b))
	return nil
}

// Task is a task of the queue.
type Task struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	State         string     `json:"state"`
	Payload       string     `json:"payload"`
	Retried       int        `json:"retried"`
	MaxRetry      int        `json:"max_retry"`
	LastError     string     `json:"last_error,omitempty"`
	LastFailedAt  *time.Time `json:"last_failed_at,omitempty"`
	NextProcessAt *time.Time `json:"next_process_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
}

func taskView(t *asynq.TaskInfo) Task {
	return Task{ID: t.ID, Type: t.Type, State: t.State.String(), Payload: string(t.Payload), Retried: t.Retried,
		MaxRetry: t.MaxRetry, LastError: t.LastErr, LastFailedAt: timePtr(t.LastFailedAt),
		NextProcessAt: timePtr(t.NextProcessAt), CompletedAt: timePtr(t.CompletedAt)}
}

// TaskStates are the states GET /api/v1/jobs?state= lists.
var TaskStates = []string{"pending", "active", "scheduled", "retry", "archived", "completed"}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 100, 1000)
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "archived"
	}
	list := map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		"pending": s.opts.Queue.ListPendingTasks, "active": s.opts.Queue.ListActiveTasks,
		"scheduled": s.opts.Queue.ListScheduledTasks, "retry": s.opts.Queue.ListRetryTasks,
		"archived": s.opts.Queue.ListArchivedTasks, "completed": s.opts.Queue.ListCompletedTasks,
	}[state]
	if list == nil {
		return badRequest("state=%q: want one of %s", state, strings.Join(TaskStates, ", "))
	}
	tasks, err := list(s.opts.QueueName, asynq.PageSize(n))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("list %s tasks: %w", state, err)
	}
	writeJSON(w, http.StatusOK, views(tasks, taskView))
	return nil
}

// FailedTask is a task the queue gave up on, as kept in SQL.
type FailedTask struct {
	ID         int64      `json:"id"`
	TaskID     string     `json:"task_id"`
	Type       string     `json:"type"`
	Payload    string     `json:"payload"`
	Error      string     `json:"error"`
	Retried    int        `json:"retried"`
	FailedAt   time.Time  `json:"failed_at"`
	Resolution string     `json:"resolution,omitempty"` // retried or deleted
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

func (s *Server) listFailed(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 100, 1000)
	if err != nil {
		return err
	}
	fs, err := s.opts.Store.FailedTasks(r.Context(), r.URL.Query().Get("all") == "", n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(fs, func(f dvcwatch.FailedTask) FailedTask {
		return FailedTask{ID: f.ID, TaskID: f.TaskID, Type: f.Type, Payload: f.Payload, Error: f.Error,
			Retried: f.Retried, FailedAt: f.FailedAt, Resolution: string(f.Resolution), ResolvedBy: f.ResolvedBy,
			ResolvedAt: timePtr(f.ResolvedAt)}
	}))
	return nil
}

// JobRun is one run of a scheduled job, as kept in SQL.
type JobRun struct {
	ID         int64          `json:"id"`
	Job        string         `json:"job"`
	Schedule   string         `json:"schedule,omitempty"`
	TaskID     string         `json:"task_id,omitempty"`
	Status     string         `json:"status"`
	Error      string         `json:"error,omitempty"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Counts     map[string]int `json:"counts,omitempty"`
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 100, 1000)
	if err != nil {
		return err
	}
	runs, err := s.opts.Store.JobRuns(r.Context(), r.URL.Query().Get("job"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(runs, func(x dvcwatch.JobRun) JobRun {
		return JobRun{ID: x.ID, Job: x.Job, Schedule: x.Schedule, TaskID: x.TaskID, Status: string(x.Status),
			Error: x.Error, StartedAt: x.StartedAt, FinishedAt: timePtr(x.FinishedAt), Counts: x.Counts}
	}))
	return nil
}

// RetryResult says what a retry did.
type RetryResult struct {
	TaskID  string `json:"task_id,omitempty"`
	Retried int    `json:"retried"`
	// Requeued says the queue no longer held the task and it was put back
	// from its SQL record.
	Requeued bool `json:"requeued,omitempty"`
}

// retryJob runs a retry, scheduled or archived task now. A task the queue
// no longer holds (past its archive retention) is put back from its SQL
// record, if there is an open one.
func (s *Server) retryJob(w http.ResponseWriter, r *http.Request, p Principal) error {
	id := r.PathValue("id")
	q := s.opts.QueueName
	err := s.opts.Queue.RunTask(q, id)
	requeued := false
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
		f, ok, ferr := s.opts.Store.OpenFailedTask(r.Context(), q, id)
		if ferr != nil {
			return ferr
		}
		if !ok || s.opts.Requeue == nil {
			return notFound("task %q: not in the queue, and no open failure of it is recorded", id)
		}
		if err := s.opts.Requeue(r.Context(), f); err != nil {
			return fmt.Errorf("requeue task %s: %w", id, err)
		}
		requeued = true
	case err != nil:
		if info, ierr := s.opts.Queue.GetTaskInfo(q, id); ierr == nil {
			return conflict("task %q is %s: only scheduled, retry and archived tasks can be run now", id, info.State)
		}
		return fmt.Errorf("retry task %s: %w", id, err)
	}
	if _, err := s.opts.Store.ResolveFailedTasks(r.Context(), q, []string{id}, dvcwatch.FailedRetried, p.Name); err != nil {
		return err
	}
	s.audit(p, "retry job", "task", id, "requeued", requeued)
	writeJSON(w, http.StatusOK, RetryResult{TaskID: id, Retried: 1, Requeued: requeued})
	return nil
}

// retryArchived runs every archived task now. Only the failure records of
// tasks the archive held are marked retried: one gone from the queue is not
// retried here (POST /api/v1/jobs/{id}/retry puts it back).
func (s *Server) retryArchived(w http.ResponseWriter, r *http.Request, p Principal) error {
	q := s.opts.QueueName
	var held []string
	for page := 1; ; page++ { // the archive keeps at most 10,000 tasks
		tasks, err := s.opts.Queue.ListArchivedTasks(q, asynq.PageSize(1000), asynq.Page(page))
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			return fmt.Errorf("list archived tasks: %w", err)
		}
		for _, t := range tasks {
			held = append(held, t.ID)
		}
		if len(tasks) < 1000 {
			break
		}
	}
	n, err := s.opts.Queue.RunAllArchivedTasks(q)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("retry archived tasks: %w", err)
	}
	if _, err := s.opts.Store.ResolveFailedTasks(r.Context(), q, held, dvcwatch.FailedRetried, p.Name); err != nil {
		return err
	}
	s.audit(p, "retry all archived jobs", "count", n)
	writeJSON(w, http.StatusOK, RetryResult{Retried: n})
	return nil
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request, p Principal) error {
	id := r.PathValue("id")
	err := s.opts.Queue.DeleteTask(s.opts.QueueName, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
		n, rerr := s.opts.Store.ResolveFailedTasks(r.Context(), s.opts.QueueName, []string{id}, dvcwatch.FailedDeleted, p.Name)
		if rerr != nil {
			return rerr
		}
		if n == 0 {
			return notFound("task %q: not in the queue, and no open failure of it is recorded", id)
		}
	case err != nil:
		if info, ierr := s.opts.Queue.GetTaskInfo(s.opts.QueueName, id); ierr == nil {
			return conflict("task %q is %s and cannot be deleted now", id, info.State)
		}
		return fmt.Errorf("delete task %s: %w", id, err)
	default:
		if _, err := s.opts.Store.ResolveFailedTasks(r.Context(), s.opts.QueueName, []string{id}, dvcwatch.FailedDeleted, p.Name); err != nil {
			return err
		}
	}
	s.audit(p, "delete job", "task", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Schedule is a schedule as it runs: its expression in force and the one the
// configuration file gives, its next tick, and who last changed it.
type Schedule struct {
	Name       string     `json:"name"`
	Job        string     `json:"job"`
	Connector  string     `json:"connector,omitempty"`
	Cron       string     `json:"cron"`       // in force, with its CRON_TZ
	Configured string     `json:"configured"` // in the configuration file
	Paused     bool       `json:"paused"`
	Next       *time.Time `json:"next,omitempty"`
	Prev       *time.Time `json:"prev,omitempty"`
	UpdatedBy  string     `json:"updated_by,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}

func scheduleView(e scheduler.Entry) Schedule {
	return Schedule{Name: e.Name, Job: string(e.Job), Connector: e.Connector, Cron: e.Spec, Configured: e.Configured,
		Paused: e.Paused, Next: timePtr(e.Next), Prev: timePtr(e.Prev), UpdatedBy: e.UpdatedBy, UpdatedAt: timePtr(e.UpdatedAt)}
}

func (s *Server) listSchedules(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	writeJSON(w, http.StatusOK, views(s.opts.Schedules.Entries(), scheduleView))
	return nil
}

func (s *Server) entry(name string) (scheduler.Entry, error) {
	for _, e := range s.opts.Schedules.Entries() {
		if e.Name == name {
			return e, nil
		}
	}
	return scheduler.Entry{}, notFound("schedule %q: no such schedule", name)
}

// RunResult names the task a "run now" enqueued.
type RunResult struct {
	TaskID string `json:"task_id"`
}

func (s *Server) runSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	name := r.PathValue("name")
	if _, err := s.entry(name); err != nil {
		return err
	}
	id, err := s.opts.Schedules.RunNow(r.Context(), name)
	if err != nil {
		return err
	}
	s.audit(p, "run schedule now", "schedule", name, "task", id)
	writeJSON(w, http.StatusAccepted, RunResult{TaskID: id})
	return nil
}

func (s *Server) pauseSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.setPaused(w, r, p, true)
}

func (s *Server) resumeSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.setPaused(w, r, p, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, p Principal, paused bool) error {
	name := r.PathValue("name")
	if _, err := s.entry(name); err != nil {
		return err
	}
	if err := s.opts.Store.SetSchedulePaused(r.Context(), name, paused, p.Name); err != nil {
		return err
	}
	s.audit(p, map[bool]string{true: "pause schedule", false: "resume schedule"}[paused], "schedule", name)
	return s.refreshed(w, name, func(e scheduler.Entry) bool { return e.Paused == paused })
}

// ScheduleChange sets a schedule's cron expression.
type ScheduleChange struct {
	Cron string `json:"cron"`
}

func (s *Server) setSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	name := r.PathValue("name")
	e, err := s.entry(name)
	if err != nil {
		return err
	}
	var req ScheduleChange
	if err := decodeJSON(r, &req); err != nil {
		return badRequest("%v", err)
	}
	expr := strings.TrimSpace(req.Cron)
	if err := config.CheckCron(expr); err != nil {
		return badRequest("schedule %s: %v", name, err)
	}
	// The schedule keeps its time zone unless the new expression names one.
	spec := config.Schedule{Cron: expr, Timezone: e.Timezone}.Spec()
	c, err := scheduler.Parse(spec)
	if err != nil {
		return badRequest("schedule %s: %v", name, err)
	}
	if c.Next(s.now()).IsZero() {
		return badRequest("schedule %s: cron expression %q never fires", name, expr)
	}
	if err := s.opts.Store.SetScheduleCron(r.Context(), name, expr, p.Name); err != nil {
		return err
	}
	s.audit(p, "set schedule cron", "schedule", name, "cron", expr)
	return s.refreshed(w, name, func(e scheduler.Entry) bool { return e.Spec == spec })
}

// refreshed makes this replica's scheduler read the change now and answers
// with the schedule as it then runs; other replicas read it within
// scheduler.DefaultReload.
func (s *Server) refreshed(w http.ResponseWriter, name string, applied func(scheduler.Entry) bool) error {
	s.opts.Schedules.Refresh()
	deadline := time.Now().Add(2 * time.Second)
	for {
		e, err := s.entry(name)
		if err != nil {
			return err
		}
		if applied(e) || time.Now().After(deadline) {
			writeJSON(w, http.StatusOK, scheduleView(e))
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
