package jobs

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Inspector is asynq's Inspector whose every answer about a queue nothing
// was ever enqueued to wraps asynq.ErrQueueNotFound. asynq v0.26's list
// calls do; GetQueueInfo and RunAllArchivedTasks return an internal error
// instead, which the admin API and the metrics would each have to tell
// apart from a Redis that is down.
type Inspector struct{ *asynq.Inspector }

// NewInspector inspects the queues on c.
func NewInspector(c redis.UniversalClient) Inspector {
	return Inspector{asynq.NewInspectorFromRedisClient(c)}
}

// GetQueueInfo is asynq's, with a missing queue reported as
// asynq.ErrQueueNotFound.
func (i Inspector) GetQueueInfo(queue string) (*asynq.QueueInfo, error) {
	info, err := i.Inspector.GetQueueInfo(queue)
	return info, i.missing(queue, err)
}

// RunAllArchivedTasks is asynq's, with a missing queue reported as
// asynq.ErrQueueNotFound.
func (i Inspector) RunAllArchivedTasks(queue string) (int, error) {
	n, err := i.Inspector.RunAllArchivedTasks(queue)
	return n, i.missing(queue, err)
}

func (i Inspector) missing(queue string, err error) error {
	if err == nil || errors.Is(err, asynq.ErrQueueNotFound) {
		return err
	}
	if names, lerr := i.Queues(); lerr == nil && !slices.Contains(names, queue) {
		return fmt.Errorf("%w: %w", asynq.ErrQueueNotFound, err)
	}
	return err
}
