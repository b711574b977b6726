package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/connectors"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// syncOutcome is a Syncer whose pass ends as the test says; what a real pass
// does is tested in ingest and, through these handlers, in worker.
type syncOutcome struct{ err error }

func (s syncOutcome) Sync(ctx context.Context, _ string, opts ingest.Options) (ingest.Result, error) {
	// As ingest.Run calls them: the gate, the pass, then its outcome.
	if opts.Gate != nil {
		if err := opts.Gate(ctx); err != nil {
			return ingest.Result{}, err
		}
	}
	if opts.Done != nil {
		opts.Done(ctx, s.err)
	}
	return ingest.Result{Connector: "onestop"}, s.err
}

func TestSyncHandlerOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		err       error
		skipRetry bool
		retry     bool
		status    dvcwatch.RunStatus
	}{
		{"success", nil, false, false, dvcwatch.RunSucceeded},
		{"another pass running", fmt.Errorf("sync onestop: %w", ingest.ErrBusy), false, false, dvcwatch.RunSkipped},
		{"bad credentials", fmt.Errorf("login: %w", connectors.ErrPermanent), true, false, dvcwatch.RunFailed},
		{"portal down", errors.New("sync onestop: 503"), false, true, dvcwatch.RunFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := storetest.SQLite(t)
			mux := asynq.NewServeMux()
			(&jobs.Handlers{Syncer: syncOutcome{c.err}, Runs: db}).Register(mux)
			task, err := jobs.ScheduledTask(config.Schedule{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"}, time.Now(), false)
			if err != nil {
				t.Fatal(err)
			}
			err = mux.ProcessTask(context.Background(), task)
			if got := errors.Is(err, asynq.SkipRetry); got != c.skipRetry {
				t.Errorf("SkipRetry = %v, want %v (err %v)", got, c.skipRetry, err)
			}
			if got := err != nil && !c.skipRetry; got != c.retry {
				t.Errorf("retried = %v, want %v (err %v)", got, c.retry, err)
			}
			runs, err := db.JobRuns(context.Background(), "sync", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Status != c.status || runs[0].Schedule != "sync-onestop" {
				t.Errorf("job runs = %+v, want one %s run of sync-onestop", runs, c.status)
			}
		})
	}
}

func TestBadPayloadIsNotRetried(t *testing.T) {
	t.Parallel()
	mux := asynq.NewServeMux()
	(&jobs.Handlers{}).Register(mux)
	for _, p := range []string{`{`, `{"connector":""}`} {
		err := mux.ProcessTask(context.Background(), asynq.NewTask(jobs.TypeSync, []byte(p)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %s: err = %v, want SkipRetry", p, err)
		}
	}
	for _, p := range []string{`{`, `{"notification":0}`} {
		err := mux.ProcessTask(context.Background(), asynq.NewTask(jobs.TypeDeliver, []byte(p)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("deliver payload %s: err = %v, want SkipRetry", p, err)
		}
	}
	if _, err := jobs.ScheduledTask(config.Schedule{Name: "x", Job: "export"}, time.Now(), false); err == nil {
		t.Error("a job without a task type built a task")
	}
	for _, j := range []config.Job{config.JobDetect, config.JobNotify, config.JobDigest, config.JobReport} {
		if _, err := jobs.ScheduledTask(config.Schedule{Name: "s", Job: j}, time.Now(), false); err != nil {
			t.Errorf("job %s: %v", j, err)
		}
	}
}

// oldPayloads are payloads as the payload once shared by every task type
// wrote them; tasks queued in Redis and failed tasks kept in SQL hold them.
var oldPayloads = map[string]string{
	jobs.TypeSync:      `{"connector":"onestop","schedule":"sync-onestop","tick":"2026-03-02T08:00:00+07:00"}`,
	jobs.TypeReconcile: `{"connector":"dvcqg","schedule":"reconcile-dvcqg","tick":"2026-03-02T08:00:00+07:00"}`,
	jobs.TypeDetect:    `{"schedule":"detect","tick":"2026-03-02T08:00:00+07:00"}`,
	jobs.TypeDispatch:  `{"schedule":"notify.dispatch","tick":"2026-03-02T08:00:00+07:00"}`,
	jobs.TypeSummary:   `{"schedule":"notify.digest","tick":"2026-03-02T08:00:00+07:00"}`,
	jobs.TypeDeliver:   `{"notification":42}`,
}

// TestTasksKeepTheirWireFormat: a task made today has the bytes the shared
// payload wrote, so that a replica of the previous version reads it.
func TestTasksKeepTheirWireFormat(t *testing.T) {
	t.Parallel()
	tick := time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	build := map[string]func() (*asynq.Task, error){
		jobs.TypeSync: func() (*asynq.Task, error) {
			return jobs.ScheduledTask(config.Schedule{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"}, tick, false)
		},
		jobs.TypeReconcile: func() (*asynq.Task, error) {
			return jobs.ScheduledTask(config.Schedule{Name: "reconcile-dvcqg", Job: config.JobReconcile, Connector: "dvcqg"}, tick, false)
		},
		jobs.TypeDetect: func() (*asynq.Task, error) {
			return jobs.ScheduledTask(config.Schedule{Name: "detect", Job: config.JobDetect}, tick, false)
		},
		jobs.TypeDispatch: func() (*asynq.Task, error) {
			return jobs.ScheduledTask(config.Schedule{Name: "notify.dispatch", Job: config.JobNotify}, tick, false)
		},
		jobs.TypeSummary: func() (*asynq.Task, error) {
			return jobs.ScheduledTask(config.Schedule{Name: "notify.digest", Job: config.JobDigest}, tick, false)
		},
		jobs.TypeDeliver: func() (*asynq.Task, error) { return jobs.NewDeliverTask(jobs.DeliverPayload{Notification: 42}) },
	}
	for typ, want := range oldPayloads {
		task, err := build[typ]()
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if task.Type() != typ || string(task.Payload()) != want {
			t.Errorf("task %s %s, want %s %s", task.Type(), task.Payload(), typ, want)
		}
	}
	for _, c := range []struct {
		build func() (*asynq.Task, error)
		want  string
	}{
		{func() (*asynq.Task, error) { return jobs.NewDetectTask(jobs.DetectPayload{}) }, `{}`},
		// A run by hand says so; the key is new, so optional.
		{func() (*asynq.Task, error) {
			return jobs.ScheduledTask(config.Schedule{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"}, tick, true)
		}, `{"connector":"onestop","schedule":"sync-onestop","tick":"2026-03-02T08:00:00+07:00","manual":true}`},
		{func() (*asynq.Task, error) {
			return jobs.NewSyncTask(jobs.SyncPayload{Connector: "onestop", Since: tick})
		}, `{"connector":"onestop","since":"2026-03-02T08:00:00+07:00"}`},
	} {
		task, err := c.build()
		if err != nil || string(task.Payload()) != c.want {
			t.Errorf("payload %s (%v), want %s", task.Payload(), err, c.want)
		}
	}
}

// TestConstructorsRefuseWhatNoHandlerRuns: a payload a handler would archive
// at once is never enqueued.
func TestConstructorsRefuseWhatNoHandlerRuns(t *testing.T) {
	t.Parallel()
	for name, build := range map[string]func() (*asynq.Task, error){
		"sync":      func() (*asynq.Task, error) { return jobs.NewSyncTask(jobs.SyncPayload{}) },
		"reconcile": func() (*asynq.Task, error) { return jobs.NewReconcileTask(jobs.ReconcilePayload{}) },
		"deliver":   func() (*asynq.Task, error) { return jobs.NewDeliverTask(jobs.DeliverPayload{}) },
	} {
		if task, err := build(); err == nil {
			t.Errorf("%s: built %s %s", name, task.Type(), task.Payload())
		}
	}
}

// TestRequeuerRebuildsEveryType puts back a failed task of every type from
// its SQL record, old payload and all: same task ID, type and payload, and
// the type's own retry policy.
func TestRequeuerRebuildsEveryType(t *testing.T) {
	t.Parallel()
	rdb := miniRedis(t)
	requeue := jobs.Requeuer(asynq.NewClientFromRedisClient(rdb))
	in := jobs.NewInspector(rdb)
	ctx := context.Background()
	for typ, payload := range oldPayloads {
		id := "failed-" + typ
		if err := requeue(ctx, dvcwatch.FailedTask{TaskID: id, Queue: jobs.Queue, Type: typ, Payload: payload}); err != nil {
			t.Fatalf("requeue %s: %v", typ, err)
		}
		// A delivery failed in the jobs' queue (before deliveries had
		// their own) goes back to the deliveries' queue.
		queue, maxRetry := jobs.Queue, 10
		if typ == jobs.TypeDeliver {
			queue, maxRetry = jobs.DeliveryQueue, jobs.DeliverMaxRetry
		}
		info, err := in.GetTaskInfo(queue, id)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if info.Type != typ || string(info.Payload) != payload || info.MaxRetry != maxRetry || info.State != asynq.TaskStatePending {
			t.Errorf("requeued %s: %s %s max retry %d %s, want %s max retry %d pending",
				id, info.Type, info.Payload, info.MaxRetry, info.State, payload, maxRetry)
		}
	}
	// A type a newer replica made goes back as stored, for that replica.
	if err := requeue(ctx, dvcwatch.FailedTask{TaskID: "report-1", Type: "report:monthly", Payload: `{"month":"2026-02"}`}); err != nil {
		t.Fatal(err)
	}
	if info, err := in.GetTaskInfo(jobs.Queue, "report-1"); err != nil || string(info.Payload) != `{"month":"2026-02"}` {
		t.Errorf("unknown type requeued as %+v, %v", info, err)
	}
	for _, f := range []dvcwatch.FailedTask{
		{TaskID: "bad-1", Type: jobs.TypeSync, Payload: `{"schedule":"sync-onestop"}`},
		{TaskID: "bad-2", Type: jobs.TypeDeliver, Payload: `{"notification":"42"}`},
	} {
		if err := requeue(ctx, f); err == nil || !strings.Contains(err.Error(), f.Type) {
			t.Errorf("requeue %s %s: %v, want an error naming the type", f.Type, f.Payload, err)
		}
		if _, err := in.GetTaskInfo(jobs.Queue, f.TaskID); !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Errorf("%s: a bad payload was enqueued (%v)", f.TaskID, err)
		}
	}
}

// stoppedHealth is a ConnectorHealth whose connector stopped: it refuses
// scheduled runs and keeps what Record was told.
type stoppedHealth struct {
	recorded []error
}

func (s *stoppedHealth) Gate(_ context.Context, connector string, manual bool) error {
	if manual {
		return nil
	}
	return fmt.Errorf("connector %s: %w at 2026-03-02 08:00 +07: portal credentials rejected", connector, dvcwatch.ErrConnectorStopped)
}

func (s *stoppedHealth) GateReconcile(ctx context.Context, mirror string, manual bool) error {
	return s.Gate(ctx, mirror, manual)
}

func (s *stoppedHealth) Record(_ context.Context, _ string, err error) {
	s.recorded = append(s.recorded, err)
}

// TestStoppedConnectorSkipsScheduledRuns: a tick of a stopped connector's
// sync or reconciliation is a skipped run with the reason, not a failure;
// a run by hand runs, and its outcome is recorded.
func TestStoppedConnectorSkipsScheduledRuns(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	h := &stoppedHealth{}
	rec := reconcileCount{}
	mux := asynq.NewServeMux()
	(&jobs.Handlers{Syncer: syncOutcome{nil}, Reconciler: &rec, Runs: db, Health: h}).Register(mux)
	ctx := context.Background()
	for _, s := range []config.Schedule{
		{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"},
		{Name: "reconcile-onestop", Job: config.JobReconcile, Connector: "onestop"},
	} {
		task, err := jobs.ScheduledTask(s, time.Now(), false)
		if err != nil {
			t.Fatal(err)
		}
		if err := mux.ProcessTask(ctx, task); err != nil {
			t.Errorf("%s: a skipped tick failed: %v", s.Name, err)
		}
		runs, err := db.JobRuns(ctx, string(s.Job), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Status != dvcwatch.RunSkipped || !strings.Contains(runs[0].Error, "stopped after a permanent failure") {
			t.Errorf("%s: runs %+v, want one skipped with the reason", s.Name, runs)
		}
	}
	if len(h.recorded) != 0 || rec.n != 0 {
		t.Errorf("skipped ticks ran: recorded %v, reconciled %d", h.recorded, rec.n)
	}
	task, err := jobs.ScheduledTask(config.Schedule{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"}, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := mux.ProcessTask(ctx, task); err != nil {
		t.Errorf("a run by hand: %v", err)
	}
	if len(h.recorded) != 1 || h.recorded[0] != nil {
		t.Errorf("recorded %v, want the run by hand's success", h.recorded)
	}
}

type reconcileCount struct{ n int }

func (r *reconcileCount) Reconcile(context.Context, string) (dvcwatch.ReconcileResult, error) {
	r.n++
	return dvcwatch.ReconcileResult{}, nil
}

// TestDeliverTaskOutlastsTheConversation: a delivery task waits on the
// deliveries' queue, and asynq does not cut it off (and retry it, while the
// server may be taking the message) before the longest SMTP conversation the
// configuration allows has ended.
func TestDeliverTaskOutlastsTheConversation(t *testing.T) {
	t.Parallel()
	rdb := miniRedis(t)
	enqueue := jobs.Enqueuer(asynq.NewClientFromRedisClient(rdb))
	if err := enqueue(context.Background(), 9); err != nil {
		t.Fatal(err)
	}
	info, err := jobs.NewInspector(rdb).GetTaskInfo(jobs.DeliveryQueue, jobs.DeliverTaskID(9))
	if err != nil {
		t.Fatalf("the delivery is not on %s: %v", jobs.DeliveryQueue, err)
	}
	if info.Timeout <= config.MaxConversation {
		t.Errorf("a delivery task times out after %v, within the longest conversation (%v)", info.Timeout, config.MaxConversation)
	}
}

// miniRedis returns a client of a miniredis of the test's own.
func miniRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
