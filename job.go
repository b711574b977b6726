package dvcwatch

import "time"

// RunStatus is how a job run ended.
type RunStatus string

// Job run outcomes.
const (
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunSkipped   RunStatus = "skipped" // e.g. another run of the same connector held the lease
)

// JobRun is one execution of a job, kept in SQL beyond the queue's own
// retention so that failures stay visible to administrators.
type JobRun struct {
	ID         int64
	Job        string
	Schedule   string // empty when run by hand
	TaskID     string // the asynq task, when the queue ran it
	StartedAt  time.Time
	FinishedAt time.Time
	Status     RunStatus
	Error      string
	Counts     map[string]int
}

// Resolution says what an administrator did with a failed task.
type Resolution string

// Resolutions of a failed task.
const (
	FailedOpen    Resolution = ""        // still archived, waiting for an administrator
	FailedRetried Resolution = "retried" // an administrator ran it again
	FailedDeleted Resolution = "deleted" // an administrator deleted it
)

// FailedTask is a task the queue archived, kept in SQL beyond the queue's
// own retention.
type FailedTask struct {
	ID      int64
	TaskID  string
	Queue   string
	Type    string
	Payload string
	Error   string
	// Cause is the error's cause as package failure found it when the task
	// failed; empty for failures recorded before causes were (the UI then
	// classifies the text).
	Cause      Cause
	Retried    int // attempts before it was archived, the first not counted
	FailedAt   time.Time
	Resolution Resolution
	ResolvedBy string
	ResolvedAt time.Time
}
