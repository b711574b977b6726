-- Breach detection and the notification outbox. The tables of 00001 with these
-- names were never written by any release, so they are replaced rather than
-- altered. migrations/sqlite/00004_breaches_outbox.sql is the same in SQLite's types.

-- +goose Up
DROP TABLE notifications;
DROP TABLE breaches;

-- A deadline rule a dossier (or one of its steps) breaks, recorded once per
-- fingerprint (kind, dossier, step), updated when its severity or text changes
-- and marked resolved when the rule no longer reports it; reopened if it does
-- again. Kept even if the dossier would be deleted, hence no cascade.
CREATE TABLE breaches (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint TEXT        NOT NULL UNIQUE,
    kind        TEXT        NOT NULL,
    source      TEXT        NOT NULL,
    code        TEXT        NOT NULL,
    step_seq    INTEGER     NOT NULL DEFAULT 0, -- 0: the whole dossier
    agency      TEXT        NOT NULL DEFAULT '',
    official    TEXT        NOT NULL DEFAULT '',
    department  TEXT        NOT NULL DEFAULT '',
    severity    TEXT        NOT NULL,
    started_at  TIMESTAMPTZ,
    due_at      TIMESTAMPTZ,
    detail      TEXT        NOT NULL DEFAULT '',
    -- The dossier was still open when last evaluated: only such breaches are
    -- repeated to their recipients; a finished dossier's are told once.
    actionable  BOOLEAN     NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code)
);
CREATE INDEX breaches_dossier_idx ON breaches (source, code);
CREATE INDEX breaches_open_idx ON breaches (agency, department) WHERE resolved_at IS NULL;
CREATE INDEX breaches_detected_idx ON breaches (detected_at);

-- The notification outbox: one email to one recipient, rendered when it was
-- decided (what the recipient reads is what is stored), relayed to the queue
-- with the row's id as the task id, and marked sent or failed by the sender.
CREATE TABLE notifications (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key  TEXT        NOT NULL UNIQUE,
    kind        TEXT        NOT NULL, -- alerts | summary
    recipient   TEXT        NOT NULL, -- the official's id in the configuration
    email       TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    body_text   TEXT        NOT NULL,
    body_html   TEXT        NOT NULL,
    items       INTEGER     NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    enqueued_at TIMESTAMPTZ,
    sending_at  TIMESTAMPTZ, -- an attempt claimed it; see notify.Deliverer
    sent_at     TIMESTAMPTZ,
    failed_at   TIMESTAMPTZ,
    attempts    INTEGER     NOT NULL DEFAULT 0,
    last_error  TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX notifications_undelivered_idx ON notifications (created_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX notifications_recipient_idx ON notifications (recipient, created_at);

-- What each recipient was told about each breach, and when: written in the
-- transaction that records the breach; notification_id is set when the alert is
-- put into that recipient's digest email (NULL: waiting, e.g. for office hours).
CREATE TABLE alerts (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    breach_id       BIGINT      NOT NULL REFERENCES breaches (id),
    recipient       TEXT        NOT NULL,
    role            TEXT        NOT NULL,
    severity        TEXT        NOT NULL, -- the breach's severity when decided
    reason          TEXT        NOT NULL, -- new | escalated | repeat
    created_at      TIMESTAMPTZ NOT NULL,
    notification_id BIGINT      REFERENCES notifications (id)
);
CREATE INDEX alerts_breach_idx ON alerts (breach_id, recipient, id);
CREATE INDEX alerts_pending_idx ON alerts (recipient, id) WHERE notification_id IS NULL;

-- An official's acknowledgement of a breach: mutes repeats of it to that
-- official while the breach keeps the severity it had then.
CREATE TABLE breach_acks (
    breach_id BIGINT      NOT NULL REFERENCES breaches (id),
    official  TEXT        NOT NULL,
    severity  TEXT        NOT NULL,
    reason    TEXT        NOT NULL,
    acked_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (breach_id, official)
);

-- Where the detector's incremental pass starts: the start of the last pass,
-- and of the last full sweep.
CREATE TABLE detector_state (
    name         TEXT        PRIMARY KEY,
    last_run_at  TIMESTAMPTZ NOT NULL,
    last_full_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE detector_state;
DROP TABLE breach_acks;
DROP TABLE alerts;
DROP TABLE notifications;
DROP TABLE breaches;
CREATE TABLE breaches (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint TEXT        NOT NULL UNIQUE,
    kind        TEXT        NOT NULL,
    source      TEXT        NOT NULL,
    code        TEXT        NOT NULL,
    step_seq    INTEGER,
    official    TEXT        NOT NULL DEFAULT '',
    department  TEXT        NOT NULL DEFAULT '',
    severity    TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    details     JSONB       NOT NULL DEFAULT '{}',
    FOREIGN KEY (source, code) REFERENCES dossiers (source, code)
);
CREATE INDEX breaches_dossier_idx ON breaches (source, code);
CREATE INDEX breaches_open_idx ON breaches (started_at) WHERE resolved_at IS NULL;
CREATE TABLE notifications (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key  TEXT        NOT NULL UNIQUE,
    recipient   TEXT        NOT NULL,
    kind        TEXT        NOT NULL,
    payload     JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    enqueued_at TIMESTAMPTZ,
    sent_at     TIMESTAMPTZ,
    failed_at   TIMESTAMPTZ,
    attempts    INTEGER     NOT NULL DEFAULT 0,
    last_error  TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX notifications_undelivered_idx ON notifications (created_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
