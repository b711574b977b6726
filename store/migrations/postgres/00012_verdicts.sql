-- Each dossier's verdict against its due (dvcwatch.Verdict), and its steps'
-- that have a due of their own: written by every detection pass beside the
-- breaches, so that the monthly results (package report) are GROUP BYs over
-- these rows. hash is the verdict's content: an unchanged verdict is not
-- rewritten. They are derived data, rebuilt by a full sweep, so they carry no
-- foreign keys: a first pass writes one row per dossier and per judged step,
-- and the per-row key checks cost a fifth of it on PostgreSQL (bench detect).
-- migrations/sqlite/00012 is the same in the other engine's types.

-- +goose Up
CREATE TABLE verdicts (
    source         TEXT             NOT NULL,
    code           TEXT             NOT NULL,
    agency         TEXT             NOT NULL DEFAULT '',
    procedure_code TEXT             NOT NULL DEFAULT '',
    department     TEXT             NOT NULL DEFAULT '',
    official       TEXT             NOT NULL DEFAULT '',
    status         INTEGER          NOT NULL,
    channel        INTEGER          NOT NULL DEFAULT 0,
    received_at    TIMESTAMPTZ,
    due_at         TIMESTAMPTZ,
    late_from      TIMESTAMPTZ,
    ended_at       TIMESTAMPTZ,
    waiting_since  TIMESTAMPTZ,
    outcome        TEXT             NOT NULL DEFAULT '',
    supplements    INTEGER          NOT NULL DEFAULT 0,
    handling_days  DOUBLE PRECISION NOT NULL DEFAULT 0,
    digitized      BOOLEAN          NOT NULL DEFAULT FALSE,
    paid_online    BOOLEAN          NOT NULL DEFAULT FALSE,
    fee_due        BOOLEAN          NOT NULL DEFAULT FALSE,
    hash           BIGINT           NOT NULL,
    PRIMARY KEY (source, code)
);
-- A month's population: received before its end, and not ended before its start.
CREATE INDEX verdicts_received_idx ON verdicts (agency, received_at);

CREATE TABLE step_verdicts (
    source     TEXT        NOT NULL,
    code       TEXT        NOT NULL,
    seq        INTEGER     NOT NULL,
    agency     TEXT        NOT NULL DEFAULT '',
    department TEXT        NOT NULL DEFAULT '',
    official   TEXT        NOT NULL DEFAULT '',
    due_at     TIMESTAMPTZ NOT NULL,
    late_from  TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ,
    PRIMARY KEY (source, code, seq)
);
CREATE INDEX step_verdicts_agency_idx ON step_verdicts (agency, ended_at);
-- The breaches that began in a month, by agency.
CREATE INDEX breaches_started_idx ON breaches (agency, started_at);
-- The sync rate looks up the open findings of each received dossier.
CREATE INDEX reconciliation_findings_code_idx ON reconciliation_findings (truth_source, code);

-- +goose Down
DROP INDEX reconciliation_findings_code_idx;
DROP INDEX breaches_started_idx;
DROP TABLE step_verdicts;
DROP TABLE verdicts;
