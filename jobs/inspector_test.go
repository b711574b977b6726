package jobs_test

import (
	"errors"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch/jobs"
)

// TestInspectorReportsAMissingQueue: every call about a queue nothing was
// enqueued to says asynq.ErrQueueNotFound; once used, the queue answers.
func TestInspectorReportsAMissingQueue(t *testing.T) {
	rdb := miniRedis(t)
	in := jobs.NewInspector(rdb)
	if _, err := in.GetQueueInfo(jobs.Queue); !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Errorf("GetQueueInfo of a queue never used: %v, want ErrQueueNotFound", err)
	}
	if _, err := in.RunAllArchivedTasks(jobs.Queue); !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Errorf("RunAllArchivedTasks of a queue never used: %v, want ErrQueueNotFound", err)
	}
	task, err := jobs.NewDetectTask(jobs.DetectPayload{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(rdb).Enqueue(task); err != nil {
		t.Fatal(err)
	}
	info, err := in.GetQueueInfo(jobs.Queue)
	if err != nil || info.Pending != 1 {
		t.Errorf("GetQueueInfo after an enqueue: %+v, %v; want one pending", info, err)
	}
	if n, err := in.RunAllArchivedTasks(jobs.Queue); err != nil || n != 0 {
		t.Errorf("RunAllArchivedTasks with none archived: %d, %v", n, err)
	}
}
