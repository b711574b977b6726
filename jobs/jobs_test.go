package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

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

func (s syncOutcome) Sync(context.Context, string, ingest.Options) (ingest.Result, error) {
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
			task, err := jobs.ScheduledTask(config.Schedule{Name: "sync-onestop", Job: config.JobSync, Connector: "onestop"}, time.Now())
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
	if _, err := jobs.ScheduledTask(config.Schedule{Name: "x", Job: "report"}, time.Now()); err == nil {
		t.Error("a job without a task type built a task")
	}
	for _, j := range []config.Job{config.JobDetect, config.JobNotify, config.JobDigest} {
		if _, err := jobs.ScheduledTask(config.Schedule{Name: "s", Job: j}, time.Now()); err != nil {
			t.Errorf("job %s: %v", j, err)
		}
	}
}
