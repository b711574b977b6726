package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/store"
)

// Task is a task of the queue.
type Task struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	State         string     `json:"state"`
	Payload       string     `json:"payload"`
	Retried       int        `json:"retried"`
	MaxRetry      int        `json:"max_retry"`
	LastError     string     `json:"last_error,omitempty"`
	Cause         string     `json:"cause,omitempty"` // of the last error, by its text (see package failure)
	LastFailedAt  *time.Time `json:"last_failed_at,omitempty"`
	NextProcessAt *time.Time `json:"next_process_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
}

func taskView(t *asynq.TaskInfo) Task {
	return Task{ID: t.ID, Type: t.Type, State: t.State.String(), Payload: string(t.Payload), Retried: t.Retried,
		MaxRetry: t.MaxRetry, LastError: t.LastErr, Cause: string(failure.OfText(t.LastErr)), LastFailedAt: timePtr(t.LastFailedAt),
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
	Cause      string     `json:"cause"` // as found when it failed, else by the error's text
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
		cause := f.Cause
		if cause == "" { // recorded before causes were
			cause = failure.OfText(f.Error)
		}
		return FailedTask{ID: f.ID, TaskID: f.TaskID, Type: f.Type, Payload: f.Payload, Error: f.Error, Cause: string(cause),
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
	Cause      string         `json:"cause,omitempty"` // of a failed run's error, by its text
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Counts     map[string]int `json:"counts,omitempty"`
}

// RunParams are the parameters GET /api/v1/jobs/runs takes.
var RunParams = []string{"limit", "cursor", "job", "status"}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, _ Principal) error {
	p, err := listParams(r, RunParams...)
	if err != nil {
		return err
	}
	f := store.JobRunFilter{Job: p.get("job"), Cursor: p.get("cursor")}
	if f.Limit, err = p.limit(100, 1000); err != nil {
		return err
	}
	status, err := p.oneOf("status", "", string(dvcwatch.RunSucceeded), string(dvcwatch.RunFailed), string(dvcwatch.RunSkipped))
	if err != nil {
		return err
	}
	f.Status = dvcwatch.RunStatus(status)
	l, err := s.opts.Store.JobRunPage(r.Context(), f)
	if err != nil {
		return listError(err)
	}
	writeJSON(w, http.StatusOK, page(l, func(x dvcwatch.JobRun) JobRun {
		v := JobRun{ID: x.ID, Job: x.Job, Schedule: x.Schedule, TaskID: x.TaskID, Status: string(x.Status),
			Error: x.Error, StartedAt: x.StartedAt, FinishedAt: timePtr(x.FinishedAt), Counts: x.Counts}
		if x.Status == dvcwatch.RunFailed {
			v.Cause = string(failure.OfText(x.Error))
		}
		return v
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
