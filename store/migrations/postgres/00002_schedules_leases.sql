-- The scheduler's bookkeeping, shared by every replica: the last tick of each
-- schedule (so that a restart catches up the latest missed tick, once) and named
-- leases (so that the same connector is never synced by two tasks at once).
-- migrations/sqlite/00002_schedules_leases.sql is the same in SQLite's types.

-- +goose Up

-- The latest tick enqueued for each schedule: its scheduled instant, never the
-- wall time of the enqueue; it only moves forward.
CREATE TABLE schedule_ticks (
    schedule   TEXT        PRIMARY KEY,
    last_tick  TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- A lease is free when absent or expired; its holder may extend it.
CREATE TABLE leases (
    name       TEXT        PRIMARY KEY,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE schedule_ticks;
