-- What the admin API keeps: operators' changes to the configured schedules,
-- and the tasks the queue gave up on, kept beyond asynq's own archive (90
-- days, 10,000 tasks per queue). migrations/postgres/00005_admin.sql is the
-- same in PostgreSQL's types.

-- +goose Up

-- An operator's change to a configured schedule: it wins over the
-- configuration file, survives restarts, and every replica's scheduler reads
-- it. A NULL column keeps what the file says.
CREATE TABLE schedule_overrides (
    schedule   TEXT        PRIMARY KEY,
    cron       TEXT,
    paused     INTEGER     CHECK (paused IN (0, 1)),
    updated_by TEXT        NOT NULL,
    updated_at TEXT        NOT NULL
) STRICT;

-- A task archived after its last attempt (or at once, for an error no retry
-- can fix), and what an administrator did about it.
CREATE TABLE failed_tasks (
    id          INTEGER     PRIMARY KEY,
    task_id     TEXT        NOT NULL,
    queue       TEXT        NOT NULL,
    type        TEXT        NOT NULL,
    payload     TEXT        NOT NULL,
    error       TEXT        NOT NULL,
    retried     INTEGER     NOT NULL,
    failed_at   TEXT        NOT NULL,
    resolution  TEXT        NOT NULL DEFAULT '', -- '' (open) | retried | deleted
    resolved_by TEXT        NOT NULL DEFAULT '',
    resolved_at TEXT,
    UNIQUE (task_id, failed_at)
) STRICT;
CREATE INDEX failed_tasks_failed_idx ON failed_tasks (failed_at);

-- +goose Down
DROP TABLE failed_tasks;
DROP TABLE schedule_overrides;
