package store

import (
	"context"
	"fmt"
)

// CountOpenFailedTasks counts the failed tasks no administrator has resolved
// yet: FailedTasks(ctx, true, n) without reading the rows, for metrics.
func (db *DB) CountOpenFailedTasks(ctx context.Context) (int, error) {
	var n int
	if err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT count(*) FROM failed_tasks WHERE resolution = ?`), FailedOpen); err != nil {
		return 0, fmt.Errorf("count open failed tasks: %w", err)
	}
	return n, nil
}
