-- Differences between the source of truth (the provincial one-stop system) and
-- its mirror (the national portal), kept for detection and the "sync rate"
-- index; and the task ID of each job run. migrations/postgres/00003_reconciliation.sql is the same in PostgreSQL's types.

-- +goose Up
CREATE TABLE reconciliation_findings (
    truth_source      TEXT        NOT NULL,
    mirror_source     TEXT        NOT NULL,
    code              TEXT        NOT NULL,
    kind              TEXT        NOT NULL, -- missing | status_mismatch
    truth_status      INTEGER     NOT NULL,
    mirror_status     INTEGER     NOT NULL, -- 0 when missing
    truth_updated_at  TEXT,
    detected_at       TEXT        NOT NULL,
    last_seen_at      TEXT        NOT NULL,
    resolved_at       TEXT,
    PRIMARY KEY (truth_source, mirror_source, code)
) STRICT;
CREATE INDEX reconciliation_findings_open_idx ON reconciliation_findings (truth_source, mirror_source) WHERE resolved_at IS NULL;

-- The asynq task a job run belongs to, so that a failed run in SQL can be
-- matched with the archived task an administrator retries.
ALTER TABLE job_runs ADD COLUMN task_id TEXT NOT NULL DEFAULT '';
CREATE INDEX job_runs_status_idx ON job_runs (status, started_at);

-- +goose Down
DROP INDEX job_runs_status_idx;
ALTER TABLE job_runs DROP COLUMN task_id;
DROP TABLE reconciliation_findings;
