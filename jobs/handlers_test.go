package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/ingest"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/notify"
)

// calls stands for every service the handlers call, and says what it was
// asked; deliverErr is how a delivery ends.
type calls struct {
	mu         sync.Mutex
	got        []string
	deliverErr error
	busy       int // syncs that find the lease held before one runs
}

func (c *calls) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, s)
}

func (c *calls) Sync(_ context.Context, connector string, _ ingest.Options) (ingest.Result, error) {
	c.add("sync " + connector)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy > 0 {
		c.busy--
		return ingest.Result{}, ingest.ErrBusy
	}
	return ingest.Result{}, nil
}

func (c *calls) Reconcile(_ context.Context, mirror string) (dvcwatch.ReconcileResult, error) {
	c.add("reconcile " + mirror)
	return dvcwatch.ReconcileResult{}, nil
}

func (c *calls) Detect(context.Context, string) (map[string]int, error) {
	c.add("detect")
	return nil, nil
}

func (c *calls) Summarize(context.Context) (map[string]int, error) {
	c.add("summarize")
	return nil, nil
}

func (c *calls) Report(_ context.Context, month string, at time.Time) (map[string]int, error) {
	c.add(fmt.Sprintf("report %q %s", month, at.Format(time.RFC3339)))
	return nil, nil
}

func (c *calls) Dispatch(context.Context) (int, error) {
	c.add("dispatch")
	return 0, nil
}

func (c *calls) Deliver(_ context.Context, id int64, _ bool) error {
	c.add(fmt.Sprintf("deliver %d", id))
	return c.deliverErr
}

// runLog keeps the job runs recorded.
type runLog struct {
	mu   sync.Mutex
	runs []dvcwatch.JobRun
}

func (r *runLog) RecordJobRun(_ context.Context, run dvcwatch.JobRun) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, run)
	return int64(len(r.runs)), nil
}

func serve(c *calls, runs *runLog) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	(&jobs.Handlers{Syncer: c, Reconciler: c, Detector: c, Notifier: c, Runs: runs}).Register(mux)
	return mux
}

// TestOldTasksAreServed runs a task of every type whose payload an older
// replica wrote: each reaches its service with what it names, and each but a
// delivery is recorded as a run of its job and schedule.
func TestOldTasksAreServed(t *testing.T) {
	t.Parallel()
	want := map[string]struct{ call, job, schedule string }{
		jobs.TypeSync:      {"sync onestop", "sync", "sync-onestop"},
		jobs.TypeReconcile: {"reconcile dvcqg", "reconcile", "reconcile-dvcqg"},
		jobs.TypeDetect:    {"detect", "detect", "detect"},
		jobs.TypeDispatch:  {"dispatch", "notify", "notify.dispatch"},
		jobs.TypeSummary:   {"summarize", "digest", "notify.digest"},
		jobs.TypeDeliver:   {"deliver 42", "", ""},
	}
	for typ, payload := range oldPayloads {
		c, runs := &calls{}, &runLog{}
		if err := serve(c, runs).ProcessTask(context.Background(), asynq.NewTask(typ, []byte(payload))); err != nil {
			t.Errorf("%s %s: %v", typ, payload, err)
		}
		w := want[typ]
		if len(c.got) != 1 || c.got[0] != w.call {
			t.Errorf("%s %s called %q, want %q", typ, payload, c.got, w.call)
		}
		switch {
		case w.job == "" && len(runs.runs) != 0:
			t.Errorf("%s recorded runs %+v, want none", typ, runs.runs)
		case w.job != "" && (len(runs.runs) != 1 || runs.runs[0].Job != w.job || runs.runs[0].Schedule != w.schedule ||
			runs.runs[0].Status != dvcwatch.RunSucceeded):
			t.Errorf("%s recorded runs %+v, want one %s run of %s", typ, runs.runs, w.job, w.schedule)
		}
	}
}

// TestBadPayloadSaysWhatIsWrong: the error of a payload no handler can run
// names the task type and the fault, and is not retried.
func TestBadPayloadSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ typ, payload, fault string }{
		{jobs.TypeSync, `{"schedule":"sync-onestop"}`, "no connector"},
		{jobs.TypeReconcile, `{"connector":""}`, "no connector"},
		{jobs.TypeDeliver, `{"notification":-1}`, "no notification"},
		{jobs.TypeDetect, `[]`, "bad payload"},
		{jobs.TypeReport, `{"month":"11/2026"}`, `month "11/2026": want YYYY-MM`},
	} {
		runs := &runLog{}
		err := serve(&calls{}, runs).ProcessTask(context.Background(), asynq.NewTask(c.typ, []byte(c.payload)))
		if !errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), c.typ+" task") || !strings.Contains(err.Error(), c.fault) {
			t.Errorf("%s %s: %v, want SkipRetry naming the type and %q", c.typ, c.payload, err, c.fault)
		}
		if len(runs.runs) != 0 {
			t.Errorf("%s %s: recorded %+v", c.typ, c.payload, runs.runs)
		}
	}
}

// TestDeliveryOutcomes: an undeliverable email is not retried, a mail server
// down is; neither is a job run.
func TestDeliveryOutcomes(t *testing.T) {
	t.Parallel()
	task, err := jobs.NewDeliverTask(jobs.DeliverPayload{Notification: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		err       error
		skipRetry bool
	}{
		{fmt.Errorf("notification 7: %w: 550 no such user", notify.ErrUndeliverable), true},
		{errors.New("notification 7: dial: connection refused"), false},
	} {
		runs := &runLog{}
		err := serve(&calls{deliverErr: c.err}, runs).ProcessTask(context.Background(), task)
		if !errors.Is(err, c.err) || errors.Is(err, asynq.SkipRetry) != c.skipRetry {
			t.Errorf("deliver ending in %v: %v, want it with SkipRetry %v", c.err, err, c.skipRetry)
		}
		if len(runs.runs) != 0 {
			t.Errorf("deliver recorded %+v", runs.runs)
		}
	}
}

// TestReportTickAsksForTheMonthBefore: the monthly results' tick asks for
// the month before its own time, the tick's and not the clock's, so that a
// retry after midnight of the 2nd still reports the same month; a month
// given by hand goes through as given.
func TestReportTickAsksForTheMonthBefore(t *testing.T) {
	t.Parallel()
	tick := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	task, err := jobs.ScheduledTask(config.Schedule{Name: "notify.report", Job: config.JobReport}, tick, false)
	if err != nil {
		t.Fatal(err)
	}
	c, runs := &calls{}, &runLog{}
	if err := serve(c, runs).ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if want := `report "" 2026-12-01T00:00:00Z`; len(c.got) != 1 || c.got[0] != want {
		t.Errorf("calls %q, want %q", c.got, want)
	}
	if len(runs.runs) != 1 || runs.runs[0].Job != "report" || runs.runs[0].Schedule != "notify.report" {
		t.Errorf("runs %+v, want one report run of notify.report", runs.runs)
	}
	byHand, err := jobs.NewReportTask(jobs.ReportPayload{Month: "2026-10"})
	if err != nil {
		t.Fatal(err)
	}
	c = &calls{}
	if err := serve(c, &runLog{}).ProcessTask(context.Background(), byHand); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || !strings.HasPrefix(c.got[0], `report "2026-10" `) {
		t.Errorf("calls %q, want the month given", c.got)
	}
}

// TestRunByHandWaitsForTheLease: a scheduled tick that finds another run
// holding the lease is skipped, but a run by hand waits its turn and runs.
func TestRunByHandWaitsForTheLease(t *testing.T) {
	t.Parallel()
	s := config.Schedule{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"}
	for _, manual := range []bool{false, true} {
		task, err := jobs.ScheduledTask(s, time.Now(), manual)
		if err != nil {
			t.Fatal(err)
		}
		c, runs := &calls{busy: 2}, &runLog{}
		if err := serve(c, runs).ProcessTask(context.Background(), task); err != nil {
			t.Fatal(err)
		}
		want, status := 1, dvcwatch.RunSkipped
		if manual {
			want, status = 3, dvcwatch.RunSucceeded
		}
		if len(c.got) != want || len(runs.runs) != 1 || runs.runs[0].Status != status {
			t.Errorf("by hand %t: %d sync calls, runs %+v; want %d calls and one %s run", manual, len(c.got), runs.runs, want, status)
		}
	}
}
