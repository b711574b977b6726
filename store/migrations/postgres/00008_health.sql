-- What an operator must see of dvcwatch's own failures, shared by every
-- replica: each connector's health (a connector stopped after a permanent
-- failure skips its scheduled runs until its configuration changes or a run
-- by hand succeeds), the cause of each failed task, and when each email's
-- latest delivery attempt started, from which the mail server's state is
-- read. migrations/sqlite/00008_health.sql is the same in SQLite's types.

-- +goose Up

-- One row per connector that has synced; see dvcwatch.ConnectorHealth.
-- fingerprint is a salted, slow hash of the configuration the connector
-- stopped with (secrets included), never the secrets themselves. version
-- counts the writes, so that a writer that read an older row writes nothing.
CREATE TABLE connector_health (
    connector     TEXT        PRIMARY KEY,
    state         TEXT        NOT NULL, -- ok | failing | stopped
    since         TIMESTAMPTZ NOT NULL,
    last_success  TIMESTAMPTZ,
    last_error    TEXT        NOT NULL DEFAULT '',
    last_error_at TIMESTAMPTZ,
    cause         TEXT        NOT NULL DEFAULT '',
    failures      INTEGER     NOT NULL DEFAULT 0,
    fingerprint   TEXT        NOT NULL DEFAULT '',
    version       BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- The cause package failure found when the task failed; '' for failures
-- recorded before (the admin API classifies their text).
ALTER TABLE failed_tasks ADD COLUMN cause TEXT NOT NULL DEFAULT '';

-- When the latest delivery attempt of an email started; the most recent
-- attempts tell whether the mail server is failing.
ALTER TABLE notifications ADD COLUMN last_attempt_at TIMESTAMPTZ;
UPDATE notifications SET last_attempt_at = coalesce(sent_at, failed_at, sending_at) WHERE attempts > 0;
CREATE INDEX notifications_attempt_idx ON notifications (last_attempt_at) WHERE last_attempt_at IS NOT NULL;

-- +goose Down
DROP INDEX notifications_attempt_idx;
ALTER TABLE notifications DROP COLUMN last_attempt_at;
ALTER TABLE failed_tasks DROP COLUMN cause;
DROP TABLE connector_health;
