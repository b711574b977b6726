package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dvcwatch/dvcwatch"
	"github.com/jmoiron/sqlx"
)

// RecordJobRun stores a finished run and returns its ID.
func (db *DB) RecordJobRun(ctx context.Context, r dvcwatch.JobRun) (int64, error) {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return 0, fmt.Errorf("record job run: %w", err)
	}
	if r.Counts == nil {
		counts = []byte("{}")
	}
	q := `INSERT INTO job_runs (job, schedule, task_id, started_at, finished_at, status, error, counts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	var id int64
	err = db.writeTx(ctx, func(tx *sqlx.Tx) error {
		return tx.QueryRowxContext(ctx, tx.Rebind(q), r.Job, r.Schedule, r.TaskID, db.timeArg(normTime(r.StartedAt)),
			db.timeArg(normTime(r.FinishedAt)), r.Status, r.Error, string(counts)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record job run of %s: %w", r.Job, err)
	}
	return id, nil
}

// JobRuns lists the most recent runs, newest first, of one job or (job "") all.
func (db *DB) JobRuns(ctx context.Context, job string, limit int) ([]dvcwatch.JobRun, error) {
	l, err := db.JobRunPage(ctx, JobRunFilter{Job: job, Limit: limit})
	return l.Items, err
}
