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
	Queue         string     `json:"queue"` // jobs.Queue or jobs.DeliveryQueue
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
	return Task{ID: t.ID, Queue: t.Queue, Type: t.Type, State: t.State.String(), Payload: string(t.Payload), Retried: t.Retried,
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
	var tasks []*asynq.TaskInfo
	for _, q := range s.opts.Queues {
		ts, err := list(q, asynq.PageSize(n))
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			return fmt.Errorf("list %s tasks of %s: %w", state, q, err)
		}
		tasks = append(tasks, ts...)
	}
	writeJSON(w, http.StatusOK, views(tasks[:min(n, len(tasks))], taskView))
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
	q, err := s.inQueue(id, s.opts.Queue.RunTask)
	requeued := false
	switch {
	case notInQueue(err):
		f, ok, ferr := s.openFailedTask(r, id)
		if ferr != nil {
			return ferr
		}
		if !ok || s.opts.Requeue == nil {
			return notFound("task %q: not in the queue, and no open failure of it is recorded", id)
		}
		q = f.Queue
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
	total := 0
	for _, q := range s.opts.Queues {
		var held []string
		for page := 1; ; page++ { // the archive keeps at most 10,000 tasks
			tasks, err := s.opts.Queue.ListArchivedTasks(q, asynq.PageSize(1000), asynq.Page(page))
			if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
				return fmt.Errorf("list archived tasks of %s: %w", q, err)
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
			return fmt.Errorf("retry archived tasks of %s: %w", q, err)
		}
		total += n
		if _, err := s.opts.Store.ResolveFailedTasks(r.Context(), q, held, dvcwatch.FailedRetried, p.Name); err != nil {
			return err
		}
	}
	s.audit(p, "retry all archived jobs", "count", total)
	writeJSON(w, http.StatusOK, RetryResult{Retried: total})
	return nil
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request, p Principal) error {
	id := r.PathValue("id")
	q, err := s.inQueue(id, s.opts.Queue.DeleteTask)
	switch {
	case notInQueue(err):
		f, ok, ferr := s.openFailedTask(r, id)
		if ferr != nil {
			return ferr
		}
		if !ok {
			return notFound("task %q: not in the queue, and no open failure of it is recorded", id)
		}
		if _, err := s.opts.Store.ResolveFailedTasks(r.Context(), f.Queue, []string{id}, dvcwatch.FailedDeleted, p.Name); err != nil {
			return err
		}
	case err != nil:
		if info, ierr := s.opts.Queue.GetTaskInfo(q, id); ierr == nil {
			return conflict("task %q is %s and cannot be deleted now", id, info.State)
		}
		return fmt.Errorf("delete task %s: %w", id, err)
	default:
		if _, err := s.opts.Store.ResolveFailedTasks(r.Context(), q, []string{id}, dvcwatch.FailedDeleted, p.Name); err != nil {
			return err
		}
	}
	s.audit(p, "delete job", "task", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// inQueue runs op on the queue that holds task id, and returns that queue
// and op's error; an error for which notInQueue holds says no queue has it.
func (s *Server) inQueue(id string, op func(queue, id string) error) (string, error) {
	err := fmt.Errorf("task %s: %w", id, asynq.ErrTaskNotFound)
	for _, q := range s.opts.Queues {
		if _, ierr := s.opts.Queue.GetTaskInfo(q, id); notInQueue(ierr) {
			continue
		}
		return q, op(q, id)
	}
	return "", err
}

// notInQueue reports an error of a task or queue that does not exist.
func notInQueue(err error) bool {
	return errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)
}

// openFailedTask finds the open SQL record of a failed task id in any queue.
func (s *Server) openFailedTask(r *http.Request, id string) (dvcwatch.FailedTask, bool, error) {
	for _, q := range s.opts.Queues {
		f, ok, err := s.opts.Store.OpenFailedTask(r.Context(), q, id)
		if err != nil || ok {
			return f, ok, err
		}
	}
	return dvcwatch.FailedTask{}, false, nil
}
