package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/jmoiron/sqlx"
)

// ScheduleOverride is an operator's change to a configured schedule, made
// through the admin API; it wins over the configuration file.
type ScheduleOverride struct {
	Schedule  string
	Cron      string // "" keeps the configured expression
	Paused    *bool  // nil keeps the configured state
	UpdatedBy string // the admin token's name
	UpdatedAt time.Time
}

// ScheduleOverrides returns every override, by schedule name.
func (db *DB) ScheduleOverrides(ctx context.Context) (map[string]ScheduleOverride, error) {
	var rows []struct {
		Schedule  string         `db:"schedule"`
		Cron      sql.NullString `db:"cron"`
		Paused    sql.NullBool   `db:"paused"`
		UpdatedBy string         `db:"updated_by"`
		UpdatedAt instant        `db:"updated_at"`
	}
	if err := db.db.SelectContext(ctx, &rows, `SELECT schedule, cron, paused, updated_by, updated_at FROM schedule_overrides`); err != nil {
		return nil, fmt.Errorf("read schedule overrides: %w", err)
	}
	out := make(map[string]ScheduleOverride, len(rows))
	for _, r := range rows {
		o := ScheduleOverride{Schedule: r.Schedule, Cron: r.Cron.String, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.Time}
		if r.Paused.Valid {
			p := r.Paused.Bool
			o.Paused = &p
		}
		out[r.Schedule] = o
	}
	return out, nil
}

// SetScheduleCron makes cron the expression of schedule (validated by the
// caller) until it is changed again.
func (db *DB) SetScheduleCron(ctx context.Context, schedule, cron, by string) error {
	q := `INSERT INTO schedule_overrides (schedule, cron, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (schedule) DO UPDATE SET cron = excluded.cron, updated_by = excluded.updated_by, updated_at = excluded.updated_at`
	if err := db.writeExec(ctx, q, schedule, cron, by, db.timeArg(normTime(db.now()))); err != nil {
		return fmt.Errorf("set cron of schedule %s: %w", schedule, err)
	}
	return nil
}

// SetSchedulePaused pauses or resumes schedule until it is changed again.
func (db *DB) SetSchedulePaused(ctx context.Context, schedule string, paused bool, by string) error {
	q := `INSERT INTO schedule_overrides (schedule, paused, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (schedule) DO UPDATE SET paused = excluded.paused, updated_by = excluded.updated_by, updated_at = excluded.updated_at`
	if err := db.writeExec(ctx, q, schedule, paused, by, db.timeArg(normTime(db.now()))); err != nil {
		return fmt.Errorf("pause schedule %s: %w", schedule, err)
	}
	return nil
}

// RecordFailedTask keeps an archived task; recording the same failure (task
// id and time) twice keeps one row.
func (db *DB) RecordFailedTask(ctx context.Context, f dvcwatch.FailedTask) error {
	q := `INSERT INTO failed_tasks (task_id, queue, type, payload, error, cause, retried, failed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id, failed_at) DO NOTHING`
	err := db.writeExec(ctx, q, f.TaskID, f.Queue, f.Type, f.Payload, truncate(f.Error, 2000), string(f.Cause), f.Retried,
		db.timeArg(normTime(f.FailedAt)))
	if err != nil {
		return fmt.Errorf("record failed task %s: %w", f.TaskID, err)
	}
	return nil
}

// FailedTasks lists failed tasks, the most recent first: open ones only, or
// all.
func (db *DB) FailedTasks(ctx context.Context, openOnly bool, limit int) ([]dvcwatch.FailedTask, error) {
	if limit <= 0 {
		limit = 100
	}
	where := "TRUE"
	if openOnly {
		where = "resolution = ''"
	}
	return db.failedTasks(ctx, where, []any{limit})
}

// OpenFailedTask returns the latest open failure of task id in queue; ok is
// false if there is none.
func (db *DB) OpenFailedTask(ctx context.Context, queue, id string) (f dvcwatch.FailedTask, ok bool, err error) {
	fs, err := db.failedTasks(ctx, "resolution = '' AND queue = ? AND task_id = ?", []any{queue, id, 1})
	if err != nil || len(fs) == 0 {
		return dvcwatch.FailedTask{}, false, err
	}
	return fs[0], true, nil
}

// CountOpenFailedTasks counts the failed tasks no administrator has resolved
// yet: FailedTasks(ctx, true, n) without reading the rows.
func (db *DB) CountOpenFailedTasks(ctx context.Context) (int, error) {
	var n int
	if err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT count(*) FROM failed_tasks WHERE resolution = ?`), dvcwatch.FailedOpen); err != nil {
		return 0, fmt.Errorf("count open failed tasks: %w", err)
	}
	return n, nil
}

// failedTasks reads the failures where says, most recent first; args bind
// the condition's placeholders, then the limit.
func (db *DB) failedTasks(ctx context.Context, where string, args []any) ([]dvcwatch.FailedTask, error) {
	var rows []struct {
		ID         int64   `db:"id"`
		TaskID     string  `db:"task_id"`
		Queue      string  `db:"queue"`
		Type       string  `db:"type"`
		Payload    string  `db:"payload"`
		Error      string  `db:"error"`
		Cause      string  `db:"cause"`
		Retried    int     `db:"retried"`
		FailedAt   instant `db:"failed_at"`
		Resolution string  `db:"resolution"`
		ResolvedBy string  `db:"resolved_by"`
		ResolvedAt instant `db:"resolved_at"`
	}
	q := `SELECT id, task_id, queue, type, payload, error, cause, retried, failed_at, resolution, resolved_by, resolved_at
		FROM failed_tasks WHERE ` + where + ` ORDER BY failed_at DESC, id DESC LIMIT ?`
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("list failed tasks: %w", err)
	}
	out := make([]dvcwatch.FailedTask, len(rows))
	for i, r := range rows {
		out[i] = dvcwatch.FailedTask{ID: r.ID, TaskID: r.TaskID, Queue: r.Queue, Type: r.Type, Payload: r.Payload, Error: r.Error,
			Cause: dvcwatch.Cause(r.Cause), Retried: r.Retried, FailedAt: r.FailedAt.Time, Resolution: dvcwatch.Resolution(r.Resolution), ResolvedBy: r.ResolvedBy, ResolvedAt: r.ResolvedAt.Time}
	}
	return out, nil
}

// ResolveFailedTasks records what an administrator did about the open
// failures of the tasks ids of queue (retried or deleted), in one
// transaction; it returns how many it closed.
func (db *DB) ResolveFailedTasks(ctx context.Context, queue string, ids []string, resolution dvcwatch.Resolution, by string) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		return inChunks(ids, func(chunk []string) error {
			in, args := inList(chunk)
			q := `UPDATE failed_tasks SET resolution = ?, resolved_by = ?, resolved_at = ?
				WHERE resolution = '' AND queue = ? AND task_id ` + in
			r, err := tx.ExecContext(ctx, tx.Rebind(q), append([]any{string(resolution), by, db.timeArg(normTime(db.now())), queue}, args...)...)
			if err != nil {
				return err
			}
			k, err := r.RowsAffected()
			n += k
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("resolve failed tasks %v: %w", ids, err)
	}
	return int(n), nil
}

// Outcomes counts what the work recorded, for a run's closing summary:
// breaches ever recorded (open or resolved), job runs that failed, and failed
// tasks no administrator has dealt with yet.
type Outcomes struct {
	Breaches        int
	FailedRuns      int
	OpenFailedTasks int
	MaxEmailHTML    int // bytes of the largest HTML body in the outbox
}

// Outcomes counts breaches, failed job runs and open failed tasks in one
// statement, so that the three are read as of one moment.
func (db *DB) Outcomes(ctx context.Context) (Outcomes, error) {
	var r struct {
		Breaches        int `db:"breaches"`
		FailedRuns      int `db:"failed_runs"`
		OpenFailedTasks int `db:"open_failed_tasks"`
		MaxEmailHTML    int `db:"max_email_html"`
	}
	bytes := "octet_length(body_html)" // length() counts characters
	if db.dialect.name == DriverSQLite {
		bytes = "length(CAST(body_html AS BLOB))"
	}
	q := `SELECT
		(SELECT count(*) FROM breaches) AS breaches,
		(SELECT count(*) FROM job_runs WHERE status = ?) AS failed_runs,
		(SELECT count(*) FROM failed_tasks WHERE resolution = ?) AS open_failed_tasks,
		(SELECT coalesce(max(` + bytes + `), 0) FROM notifications) AS max_email_html`
	if err := db.db.GetContext(ctx, &r, db.db.Rebind(q), dvcwatch.RunFailed, dvcwatch.FailedOpen); err != nil {
		return Outcomes{}, fmt.Errorf("count outcomes: %w", err)
	}
	return Outcomes(r), nil
}

// DepartmentRisk counts a department's open dossiers at risk: those with an
// unresolved due-soon, overdue or step-overdue breach while still open.
type DepartmentRisk struct {
	Agency      string `db:"agency"`
	Department  string `db:"department"`
	DueSoon     int    `db:"due_soon"`
	Overdue     int    `db:"overdue"`
	StepOverdue int    `db:"step_overdue"`
}

// AtRisk returns the departments with dossiers at risk, the most overdue
// first.
func (db *DB) AtRisk(ctx context.Context) ([]DepartmentRisk, error) {
	var rows []DepartmentRisk
	q := `SELECT agency, department,
		count(DISTINCT CASE WHEN kind = 'due_soon' THEN code END) AS due_soon,
		count(DISTINCT CASE WHEN kind = 'overdue' THEN code END) AS overdue,
		count(DISTINCT CASE WHEN kind = 'step_overdue' THEN code END) AS step_overdue
		FROM breaches WHERE resolved_at IS NULL AND actionable = ? AND kind IN ('due_soon', 'overdue', 'step_overdue')
		GROUP BY agency, department ORDER BY overdue DESC, step_overdue DESC, due_soon DESC, agency, department`
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(q), true); err != nil {
		return nil, fmt.Errorf("dossiers at risk: %w", err)
	}
	return rows, nil
}

// StatusCount is how many dossiers of a source have a status.
type StatusCount struct {
	Source string `db:"source"`
	Status int    `db:"status"`
	N      int    `db:"n"`
}

// DossiersByStatus counts the stored dossiers per source and status.
func (db *DB) DossiersByStatus(ctx context.Context) ([]StatusCount, error) {
	var rows []StatusCount
	q := `SELECT source, status, count(*) AS n FROM dossiers GROUP BY source, status ORDER BY source, status`
	if err := db.db.SelectContext(ctx, &rows, q); err != nil {
		return nil, fmt.Errorf("count dossiers by status: %w", err)
	}
	return rows, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }
