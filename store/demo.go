package store

import (
	"context"
	"fmt"
)

// Outcomes counts what the work recorded, for a run's closing summary:
// breaches ever recorded (open or resolved), job runs that failed, and failed
// tasks no administrator has dealt with yet.
type Outcomes struct {
	Breaches        int
	FailedRuns      int
	OpenFailedTasks int
}

// Outcomes counts breaches, failed job runs and open failed tasks in one
// statement, so that the three are read as of one moment.
func (db *DB) Outcomes(ctx context.Context) (Outcomes, error) {
	var r struct {
		Breaches        int `db:"breaches"`
		FailedRuns      int `db:"failed_runs"`
		OpenFailedTasks int `db:"open_failed_tasks"`
	}
	q := `SELECT
		(SELECT count(*) FROM breaches) AS breaches,
		(SELECT count(*) FROM job_runs WHERE status = ?) AS failed_runs,
		(SELECT count(*) FROM failed_tasks WHERE resolution = ?) AS open_failed_tasks`
	if err := db.db.GetContext(ctx, &r, db.db.Rebind(q), RunFailed, FailedOpen); err != nil {
		return Outcomes{}, fmt.Errorf("count outcomes: %w", err)
	}
	return Outcomes(r), nil
}
