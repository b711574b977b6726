-- The dvcwatch schema for SQLite: the tables, columns and indexes of
-- migrations/postgres/00001_schema.sql in SQLite's types; change both together
-- (TestSchemaParity compares them). STRICT tables make the declared types real.
-- Times are TEXT in UTC, 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width, so text
-- order is time order, and SQLite's date functions read it); booleans are 0/1.

-- +goose Up

-- Dossiers as last reported by their source system, keyed by (source, code).
CREATE TABLE dossiers (
    source              TEXT        NOT NULL,
    code                TEXT        NOT NULL,
    receipt_no          TEXT        NOT NULL DEFAULT '',
    procedure_code      TEXT        NOT NULL DEFAULT '',
    procedure_name      TEXT        NOT NULL DEFAULT '',
    field_code          TEXT        NOT NULL DEFAULT '',
    field_name          TEXT        NOT NULL DEFAULT '',
    agency              TEXT        NOT NULL DEFAULT '',
    channel             INTEGER     NOT NULL DEFAULT 0,
    applicant_kind      INTEGER     NOT NULL DEFAULT 0,
    -- The applicant's personal data: never logged, shown only masked.
    applicant_name      TEXT        NOT NULL DEFAULT '',
    applicant_email     TEXT        NOT NULL DEFAULT '',
    applicant_phone     TEXT        NOT NULL DEFAULT '',
    applicant_id_number TEXT        NOT NULL DEFAULT '',
    submitted_at        TEXT,
    received_at         TEXT,
    due_at              TEXT,
    processed_at        TEXT,
    returned_at         TEXT,
    refused_at          TEXT,
    status              INTEGER     NOT NULL,
    raw_status          TEXT        NOT NULL DEFAULT '',
    paid_online         INTEGER     NOT NULL DEFAULT 0 CHECK (paid_online IN (0, 1)),
    has_digitized_parts INTEGER     NOT NULL DEFAULT 0 CHECK (has_digitized_parts IN (0, 1)),
    source_updated_at   TEXT,
    -- sha256 of everything the source reported; equal hash means nothing to write.
    content_hash        BLOB        NOT NULL,
    first_seen_at       TEXT        NOT NULL,
    updated_at          TEXT        NOT NULL,
    PRIMARY KEY (source, code)
) STRICT;
CREATE INDEX dossiers_status_due_idx ON dossiers (status, due_at);
CREATE INDEX dossiers_agency_status_due_idx ON dossiers (agency, status, due_at);

CREATE TABLE dossier_steps (
    source         TEXT    NOT NULL,
    code           TEXT    NOT NULL,
    seq            INTEGER NOT NULL,
    department     TEXT    NOT NULL DEFAULT '',
    official       TEXT    NOT NULL DEFAULT '',
    official_title TEXT    NOT NULL DEFAULT '',
    content        TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL DEFAULT '',
    started_at     TEXT,
    due_at         TEXT,
    finished_at    TEXT,
    PRIMARY KEY (source, code, seq),
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code) ON DELETE CASCADE
) STRICT;

CREATE TABLE dossier_supplements (
    source       TEXT    NOT NULL,
    code         TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    requested_at TEXT,
    returned_at  TEXT,
    due_before   TEXT,
    due_after    TEXT,
    PRIMARY KEY (source, code, seq),
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code) ON DELETE CASCADE
) STRICT;

CREATE TABLE dossier_apologies (
    source     TEXT    NOT NULL,
    code       TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    issued_at  TEXT,
    new_due_at TEXT,
    issued_by  TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (source, code, seq),
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code) ON DELETE CASCADE
) STRICT;

-- One row per observed status change; from_status 0 when first seen.
CREATE TABLE status_events (
    id          INTEGER     PRIMARY KEY,
    source      TEXT        NOT NULL,
    code        TEXT        NOT NULL,
    from_status INTEGER     NOT NULL,
    to_status   INTEGER     NOT NULL,
    raw_from    TEXT        NOT NULL DEFAULT '',
    raw_to      TEXT        NOT NULL DEFAULT '',
    changed_at  TEXT,
    observed_by TEXT        NOT NULL DEFAULT '',
    observed_at TEXT        NOT NULL,
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code) ON DELETE CASCADE
) STRICT;
CREATE INDEX status_events_dossier_idx ON status_events (source, code, id);

-- Where each connector's next pull starts: (updated time, key), saved with the
-- page it follows.
CREATE TABLE sync_cursors (
    source      TEXT        PRIMARY KEY,
    cursor_time TEXT,
    cursor_key  TEXT        NOT NULL DEFAULT '',
    updated_at  TEXT        NOT NULL
) STRICT;

-- Deadline breaches; the fingerprint makes detection idempotent. Kept even if
-- the dossier would be deleted, hence no cascade.
CREATE TABLE breaches (
    id          INTEGER     PRIMARY KEY,
    fingerprint TEXT        NOT NULL UNIQUE,
    kind        TEXT        NOT NULL,
    source      TEXT        NOT NULL,
    code        TEXT        NOT NULL,
    step_seq    INTEGER,    -- NULL when the breach is the dossier's, not one step's
    official    TEXT        NOT NULL DEFAULT '',
    department  TEXT        NOT NULL DEFAULT '',
    severity    TEXT        NOT NULL,
    started_at  TEXT        NOT NULL,
    resolved_at TEXT,
    details     TEXT        NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code)
) STRICT;
CREATE INDEX breaches_dossier_idx ON breaches (source, code);
CREATE INDEX breaches_open_idx ON breaches (started_at) WHERE resolved_at IS NULL;

-- The notification outbox: written in the transaction that decides to notify,
-- relayed to the queue, marked sent or failed by the sender.
CREATE TABLE notifications (
    id          INTEGER     PRIMARY KEY,
    dedupe_key  TEXT        NOT NULL UNIQUE,
    recipient   TEXT        NOT NULL,
    kind        TEXT        NOT NULL,
    payload     TEXT        NOT NULL CHECK (json_valid(payload)),
    created_at  TEXT        NOT NULL,
    enqueued_at TEXT,
    sent_at     TEXT,
    failed_at   TEXT,
    attempts    INTEGER     NOT NULL DEFAULT 0,
    last_error  TEXT        NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX notifications_undelivered_idx ON notifications (created_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- History of job runs, kept in SQL because the queue forgets archived tasks.
CREATE TABLE job_runs (
    id          INTEGER     PRIMARY KEY,
    job         TEXT        NOT NULL,
    schedule    TEXT        NOT NULL DEFAULT '',
    started_at  TEXT        NOT NULL,
    finished_at TEXT,
    status      TEXT        NOT NULL,
    error       TEXT        NOT NULL DEFAULT '',
    counts      TEXT        NOT NULL DEFAULT '{}' CHECK (json_valid(counts))
) STRICT;
CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at);

-- +goose Down
DROP TABLE job_runs;
DROP TABLE notifications;
DROP TABLE breaches;
DROP TABLE sync_cursors;
DROP TABLE status_events;
DROP TABLE dossier_apologies;
DROP TABLE dossier_supplements;
DROP TABLE dossier_steps;
DROP TABLE dossiers;
