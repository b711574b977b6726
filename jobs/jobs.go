// Package jobs defines dvcwatch's asynq task types, the typed payload of
// each, and their handlers. It declares the small interfaces its handlers
// call (a Syncer, a Reconciler, a Detector, a Notifier, a run recorder), and
// the worker passes the real ones.
//
// Every handler honours ctx, is idempotent (a task handed back at shutdown or
// retried after a crash may run twice), and returns an error wrapping
// asynq.SkipRetry for input that no retry can fix, so that the task is
// archived at once for an administrator to see.
//
// A payload's JSON keys are a wire format: tasks queued in Redis by an older
// replica, and failed tasks kept in SQL for an administrator's retry, hold
// them. A key is never renamed or given another meaning; a new one must be
// optional.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
)

// Task types.
const (
	TypeSync      = "sync:connector"
	TypeReconcile = "reconcile:connector"
	TypeDetect    = "detect:run"      // one detection pass
	TypeDispatch  = "notify:dispatch" // re-enqueue undelivered outbox rows
	TypeSummary   = "notify:summary"  // the office's daily summary
	TypeReport    = "notify:report"   // a month's results to the monitors and the office
	TypeDeliver   = "notify:deliver"  // send one outbox row; task id = "notification:<row id>"
)

// Queue is where the scheduled jobs wait (syncs, detection, summaries);
// the lease in ingest keeps syncs of one connector apart. DeliveryQueue is
// where emails wait, served by workers of their own: a mail backlog, or a
// slow mail server holding its conversations for minutes, never delays a
// sync or a detection pass.
//
// Deliveries were queued in Queue before they had a queue of their own: the
// jobs' workers still serve TypeDeliver, so such tasks left in Redis by an
// upgrade are sent from there. The same notification may then be queued in
// both (a task id is unique per queue only); its claim on the outbox row
// lets one of the two send it.
const (
	Queue         = "dvcwatch"
	DeliveryQueue = "dvcwatch-mail"
)

// Queues returns every queue dvcwatch's tasks wait in, the jobs' first: what
// the admin views, the metrics and the CLI list.
func Queues() []string { return []string{Queue, DeliveryQueue} }

// taskTimeout bounds one task; a sync that needs longer resumes from its last
// stored batch on the retry.
const taskTimeout = 30 * time.Minute

// Retention keeps a completed task visible in the queue (the admin UI's
// "completed" list) for a day; a tick's task keeps the scheduler's own. A
// delivery's task keeps its id taken meanwhile: the dispatcher cannot
// enqueue that notification again for a day (the outbox row, sent or
// claimed, would refuse it anyway; see notify.Deliverer).
const Retention = 24 * time.Hour

// Origin says which schedule tick made a task; it is zero for a task that no
// schedule made.
type Origin struct {
	Schedule string    `json:"schedule,omitempty"`
	Tick     time.Time `json:"tick,omitzero"`
	// Manual says an operator asked for the run ("run now": the admin API,
	// dvcwatch schedules run): it runs even when its connector stopped after
	// a permanent failure, and its success lifts the stop.
	Manual bool `json:"manual,omitempty"`
}

func (o Origin) origin() Origin { return o }

// SyncPayload asks for one sync pass of a connector.
type SyncPayload struct {
	Connector string `json:"connector"`
	// Since starts a backfill there rather than at the connector's cursor.
	Since time.Time `json:"since,omitzero"`
	Origin
}

// Validate reports what makes p unusable.
func (p SyncPayload) Validate() error { return needConnector(p.Connector) }

// ReconcilePayload asks for a mirror connector's copy to be compared with its
// source of truth.
type ReconcilePayload struct {
	Connector string `json:"connector"` // the mirror
	Origin
}

// Validate reports what makes p unusable.
func (p ReconcilePayload) Validate() error { return needConnector(p.Connector) }

func needConnector(name string) error {
	if name == "" {
		return errors.New("no connector")
	}
	return nil
}

// DetectPayload asks for one detection pass.
type DetectPayload struct{ Origin }

// Validate reports what makes p unusable: nothing can.
func (DetectPayload) Validate() error { return nil }

// DispatchPayload asks for the undelivered notifications to be enqueued.
type DispatchPayload struct{ Origin }

// Validate reports what makes p unusable: nothing can.
func (DispatchPayload) Validate() error { return nil }

// SummaryPayload asks for the office's daily summary.
type SummaryPayload struct{ Origin }

// Validate reports what makes p unusable: nothing can.
func (SummaryPayload) Validate() error { return nil }

// ReportPayload asks for the monthly results of Month (YYYY-MM); an empty
// Month is the month before the tick's (or, run by hand, before now's), in
// Asia/Ho_Chi_Minh.
type ReportPayload struct {
	Origin
	Month string `json:"month,omitempty"`
}

// Validate reports what makes p unusable: a month not written YYYY-MM.
func (p ReportPayload) Validate() error {
	if p.Month == "" {
		return nil
	}
	if _, err := time.Parse("2006-01", p.Month); err != nil {
		return fmt.Errorf("month %q: want YYYY-MM", p.Month)
	}
	return nil
}

// DeliverPayload asks for one outbox row to be sent.
type DeliverPayload struct {
	Notification int64 `json:"notification"` // the outbox row's id
}

// Validate reports what makes p unusable.
func (p DeliverPayload) Validate() error {
	if p.Notification <= 0 {
		return errors.New("no notification")
	}
	return nil
}

// No schedule makes a delivery: the dispatcher does.
func (DeliverPayload) origin() Origin { return Origin{} }

// payload is what every task type's payload offers the constructors and the
// handler wrapper.
type payload interface {
	Validate() error
	origin() Origin
}

// NewSyncTask makes a task that syncs one connector.
func NewSyncTask(p SyncPayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeSync, p, opts)
}

// NewReconcileTask makes a task that reconciles a mirror connector with its
// source of truth.
func NewReconcileTask(p ReconcilePayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeReconcile, p, opts)
}

// NewDetectTask makes a task that runs one detection pass.
func NewDetectTask(p DetectPayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeDetect, p, opts)
}

// NewDispatchTask makes a task that re-enqueues undelivered notifications.
func NewDispatchTask(p DispatchPayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeDispatch, p, opts)
}

// NewSummaryTask makes a task that writes the office's daily summary.
func NewSummaryTask(p SummaryPayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeSummary, p, opts)
}

// NewReportTask makes a task that writes a month's results.
func NewReportTask(p ReportPayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeReport, p, opts)
}

// DeliverMaxRetry is how many times a delivery is retried (with DeliverRetryDelay)
// before its task is archived for an administrator: about four hours of a
// mail server being down.
const DeliverMaxRetry = 10

// DeliverTaskID is the task id of a notification's delivery: at most one such
// task exists in the queue at a time, however often it is enqueued.
func DeliverTaskID(id int64) string { return "notification:" + strconv.FormatInt(id, 10) }

// NewDeliverTask makes the task that sends outbox row p.Notification, on
// DeliveryQueue, under DeliverTaskID and DeliverMaxRetry unless opts say
// otherwise. Its timeout is the jobs' (30 minutes): longer than the longest
// SMTP conversation configuration allows (config.MaxConversation), the reply
// to the end of the message may take 10 minutes.
func NewDeliverTask(p DeliverPayload, opts ...asynq.Option) (*asynq.Task, error) {
	own := []asynq.Option{
		asynq.Queue(DeliveryQueue), asynq.TaskID(DeliverTaskID(p.Notification)), asynq.MaxRetry(DeliverMaxRetry),
	}
	return newTask(TypeDeliver, p, append(own, opts...))
}

// DeliverRetryDelay doubles from 30 seconds to at most an hour.
func DeliverRetryDelay(n int) time.Duration {
	d := 30 * time.Second << min(n, 7)
	return min(d, time.Hour)
}

// ErrBadPayload and ErrInvalidPayload are wrapped by the error of a task
// whose payload is not the JSON of its type, or reads but is not valid: no
// retry can fix either.
var (
	ErrBadPayload     = errors.New("bad payload")
	ErrInvalidPayload = errors.New("invalid payload")
)

func newTask[P payload](typ string, p P, opts []asynq.Option) (*asynq.Task, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s task: %w: %w", typ, ErrInvalidPayload, err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("%s task: %w", typ, err)
	}
	return asynq.NewTask(typ, b, append(defaults(), opts...)...), nil
}

// defaults are the options of every task; a type's own come after them and win.
func defaults() []asynq.Option {
	return []asynq.Option{asynq.Queue(Queue), asynq.Timeout(taskTimeout), asynq.MaxRetry(10), asynq.Retention(Retention)}
}

// decode reads a task's payload as the handlers and Requeuer do: unknown
// keys are ignored, so that a task of a newer replica is still served.
func decode[P payload](typ string, b []byte) (P, error) {
	var p P
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s task: %w: %w", typ, ErrBadPayload, err)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%s task: %w: %w", typ, ErrInvalidPayload, err)
	}
	return p, nil
}

// Enqueuer returns a function that enqueues a notification's delivery and
// treats an existing task of the same id as done: it is queued already.
func Enqueuer(c *asynq.Client) func(ctx context.Context, id int64) error {
	return func(ctx context.Context, id int64) error {
		t, err := NewDeliverTask(DeliverPayload{Notification: id})
		if err != nil {
			return err
		}
		_, err = c.EnqueueContext(ctx, t)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
		return err
	}
}

// Requeuer returns a function that puts a failed task back on the queue from
// its SQL record, with its own task ID and its type's options: what an
// administrator's retry does once the queue's archive no longer holds it.
func Requeuer(c *asynq.Client) func(ctx context.Context, f dvcwatch.FailedTask) error {
	return func(ctx context.Context, f dvcwatch.FailedTask) error {
		t, err := rebuild(f.Type, []byte(f.Payload))
		if err != nil {
			return fmt.Errorf("task %s: stored payload: %w", f.TaskID, err)
		}
		_, err = c.EnqueueContext(ctx, t, asynq.TaskID(f.TaskID))
		return err
	}
}

// rebuild makes a task of type typ again from its payload.
func rebuild(typ string, b []byte) (*asynq.Task, error) {
	if build, ok := rebuilders[typ]; ok {
		return build(typ, b)
	}
	// A type this version does not know (a newer replica's) goes back as it
	// was: the replica that enqueued it may serve it.
	return asynq.NewTask(typ, b, defaults()...), nil
}

// rebuilders make a task of each type again from its payload, checked as
// its handler will.
var rebuilders = map[string]func(typ string, b []byte) (*asynq.Task, error){
	TypeSync:      again(NewSyncTask),
	TypeReconcile: again(NewReconcileTask),
	TypeDetect:    again(NewDetectTask),
	TypeDispatch:  again(NewDispatchTask),
	TypeSummary:   again(NewSummaryTask),
	TypeReport:    again(NewReportTask),
	TypeDeliver:   again(NewDeliverTask),
}

func again[P payload](build func(P, ...asynq.Option) (*asynq.Task, error)) func(string, []byte) (*asynq.Task, error) {
	return func(typ string, b []byte) (*asynq.Task, error) {
		p, err := decode[P](typ, b)
		if err != nil {
			return nil, err
		}
		return build(p)
	}
}

// ScheduledTask builds the task a schedule's tick enqueues, or with manual
// the task an operator's "run now" enqueues; the scheduler calls it and knows
// nothing of task types.
func ScheduledTask(s config.Schedule, tick time.Time, manual bool) (*asynq.Task, error) {
	o := Origin{Schedule: s.Name, Tick: tick, Manual: manual}
	switch s.Job {
	case config.JobSync:
		return NewSyncTask(SyncPayload{Connector: s.Connector, Origin: o})
	case config.JobReconcile:
		return NewReconcileTask(ReconcilePayload{Connector: s.Connector, Origin: o})
	case config.JobDetect:
		return NewDetectTask(DetectPayload{o})
	case config.JobNotify:
		return NewDispatchTask(DispatchPayload{o})
	case config.JobDigest:
		return NewSummaryTask(SummaryPayload{o})
	case config.JobReport:
		return NewReportTask(ReportPayload{Origin: o})
	default:
		return nil, fmt.Errorf("schedule %s: job %q has no task yet", s.Name, s.Job)
	}
}
