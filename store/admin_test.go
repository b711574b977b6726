package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

func TestCountOpenFailedTasks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		count := func(want int) {
			t.Helper()
			if n, err := db.CountOpenFailedTasks(ctx); err != nil || n != want {
				t.Errorf("CountOpenFailedTasks = %d, %v; want %d", n, err, want)
			}
		}
		count(0)
		for i := range 3 {
			err := db.RecordFailedTask(ctx, dvcwatch.FailedTask{TaskID: fmt.Sprintf("t%d", i), Queue: "q", Type: "sync:connector",
				Payload: "{}", Error: "boom", Cause: dvcwatch.CausePortalBusy, FailedAt: t0.Add(time.Duration(i) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
		}
		count(3)
		if _, err := db.ResolveFailedTasks(ctx, "q", []string{"t1"}, dvcwatch.FailedDeleted, "admin"); err != nil {
			t.Fatal(err)
		}
		count(2)
		if open, err := db.FailedTasks(ctx, true, 100); err != nil || len(open) != 2 {
			t.Errorf("FailedTasks(open) = %d rows, %v; want the 2 counted", len(open), err)
		}
		if f, ok, err := db.OpenFailedTask(ctx, "q", "t2"); err != nil || !ok || f.Error != "boom" || f.Type != "sync:connector" ||
			f.Cause != dvcwatch.CausePortalBusy {
			t.Errorf("OpenFailedTask(t2) = %+v, %t, %v; want its record", f, ok, err)
		}
		for _, id := range []string{"t1", "nope"} { // resolved; never failed
			if f, ok, err := db.OpenFailedTask(ctx, "q", id); err != nil || ok {
				t.Errorf("OpenFailedTask(%s) = %+v, %t, %v; want none", id, f, ok, err)
			}
		}
		if n, err := db.ResolveFailedTasks(ctx, "q", []string{"t0", "t2", "t1"}, dvcwatch.FailedRetried, "admin"); err != nil || n != 2 {
			t.Errorf("ResolveFailedTasks(t0, t2, t1) closed %d, %v; want the 2 open", n, err)
		}
		count(0)
	})
}
