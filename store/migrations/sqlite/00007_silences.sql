-- Silences (issue 11): an operator mutes the breaches that match every one of
-- a silence's matchers until its end; the breaches are still recorded, and
-- nobody is told of them meanwhile. And the procedure code (MaTTHC) of each
-- breach's dossier, so that a silence matches by procedure without a join.
-- migrations/postgres/00007_silences.sql is the same in PostgreSQL's types.

-- +goose Up
ALTER TABLE breaches ADD COLUMN procedure_code TEXT NOT NULL DEFAULT '';
-- Detection fills it from now on; the breaches recorded before take their
-- dossier's.
UPDATE breaches SET procedure_code = d.procedure_code FROM dossiers d
    WHERE d.source = breaches.source AND d.code = breaches.code AND d.procedure_code <> '';

-- A silence: one column per label it may match (kind, agency, department,
-- official, procedure, dossier), '' where it does not match by that label.
-- Never deleted: expiring one sets ends_at to that moment, so that who muted
-- what, until when and why stays known.
CREATE TABLE silences (
    id             INTEGER     PRIMARY KEY,
    kind           TEXT        NOT NULL DEFAULT '',
    agency         TEXT        NOT NULL DEFAULT '',
    department     TEXT        NOT NULL DEFAULT '',
    official       TEXT        NOT NULL DEFAULT '',
    procedure_code TEXT        NOT NULL DEFAULT '',
    dossier_code   TEXT        NOT NULL DEFAULT '',
    starts_at      TEXT        NOT NULL,
    ends_at        TEXT        NOT NULL,
    reason         TEXT        NOT NULL,
    created_by     TEXT        NOT NULL, -- the admin token's name
    created_at     TEXT        NOT NULL,
    expired_by     TEXT        NOT NULL DEFAULT '' -- who ended it early, if anyone
) STRICT;
-- Every detection pass and every digest reads the silences not ended yet.
CREATE INDEX silences_ends_idx ON silences (ends_at);

-- +goose Down
DROP INDEX silences_ends_idx;
DROP TABLE silences;
ALTER TABLE breaches DROP COLUMN procedure_code;
