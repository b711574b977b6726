package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

func TestJobRuns(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		runs := []dvcwatch.JobRun{
			{Job: "sync", Schedule: "sync-onestop", TaskID: "sync-onestop@2026-03-02T01:00:00Z", StartedAt: t0, FinishedAt: t0.Add(time.Minute),
				Status: dvcwatch.RunSucceeded, Counts: map[string]int{"inserted": 12, "events": 12}},
			{Job: "sync", StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + time.Second), Status: dvcwatch.RunFailed,
				Error: "dvcqg: DanhSachHoSo: portal error_code 500"},
			{Job: "reconcile", StartedAt: t0, FinishedAt: t0, Status: dvcwatch.RunSkipped},
		}
		for _, r := range runs {
			if _, err := db.RecordJobRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.JobRuns(ctx, "sync", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Status != dvcwatch.RunFailed || got[0].Error != runs[1].Error ||
			got[1].Counts["inserted"] != 12 || got[1].TaskID != runs[0].TaskID || !got[1].FinishedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("JobRuns(sync) = %+v", got)
		}
		if all, _ := db.JobRuns(ctx, "", 10); len(all) != 3 {
			t.Errorf("JobRuns(all) returned %d runs, want 3", len(all))
		}
	})
}
