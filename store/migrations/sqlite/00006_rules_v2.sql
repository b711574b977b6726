-- The rules of the decided lateness (the citizen's appointment, compared by
-- date): why a breach was resolved, and which version of the rules the
-- detector last swept with, so that an upgrade resolves what the new rules no
-- longer report as "rule changed", without mail. migrations/postgres/00006 is
-- the same in PostgreSQL's types.

-- +goose Up
ALTER TABLE breaches ADD COLUMN resolved_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE detector_state ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 0;
-- Detection reads each page's payment waits (status 6) from the status
-- history; most dossiers have none.
CREATE INDEX status_events_payment_idx ON status_events (source, code, id) WHERE to_status = 6 OR from_status = 6;

-- +goose Down
DROP INDEX status_events_payment_idx;
ALTER TABLE detector_state DROP COLUMN rules_version;
ALTER TABLE breaches DROP COLUMN resolved_reason;
