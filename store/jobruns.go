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
	var rows []struct {
		ID         int64   `db:"id"`
		Job        string  `db:"job"`
		Schedule   string  `db:"schedule"`
		TaskID     string  `db:"task_id"`
		StartedAt  instant `db:"started_at"`
		FinishedAt instant `db:"finished_at"`
		Status     string  `db:"status"`
		Error      string  `db:"error"`
		Counts     string  `db:"counts"`
	}
	q := `SELECT id, job, schedule, task_id, started_at, finished_at, status, error, counts FROM job_runs
		WHERE (? = '' OR job = ?) ORDER BY id DESC LIMIT ?`
	if db.dialect.name == DriverPostgres {
		q = `SELECT id, job, schedule, task_id, started_at, finished_at, status, error, counts::text AS counts FROM job_runs
		WHERE ($1 = '' OR job = $2) ORDER BY id DESC LIMIT $3`
	}
	if err := db.db.SelectContext(ctx, &rows, q, job, job, limit); err != nil {
		return nil, fmt.Errorf("list job runs: %w", err)
	}
	out := make([]dvcwatch.JobRun, len(rows))
	for i, r := range rows {
		out[i] = dvcwatch.JobRun{ID: r.ID, Job: r.Job, Schedule: r.Schedule, TaskID: r.TaskID, StartedAt: r.StartedAt.Time,
			FinishedAt: r.FinishedAt.Time, Status: dvcwatch.RunStatus(r.Status), Error: r.Error}
		if err := json.Unmarshal([]byte(r.Counts), &out[i].Counts); err != nil {
			return nil, fmt.Errorf("list job runs: counts of run %d: %w", r.ID, err)
		}
	}
	return out, nil
}
