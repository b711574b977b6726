-- The admin lists page by key (keyset pagination): each sort has an index
-- that yields its rows in order from a cursor, so a deep page reads no more
-- than a first one. A breach without a due sorts after every other in both
-- due orders: the two expressions (each indexed over
-- every breach, and over the open ones the console lists first) stand in for it with the latest and the
-- earliest instant (times are fixed-width UTC text). A receipt number finds
-- its dossier through its own index. migrations/postgres/00011 is the same in
-- the other engine's types.

-- +goose Up
CREATE INDEX breaches_late_idx ON breaches (COALESCE(due_at, '9999-12-31T00:00:00.000000Z'), id);
CREATE INDEX breaches_due_idx ON breaches (COALESCE(due_at, '0001-01-01T00:00:00.000000Z'), id);
CREATE INDEX breaches_open_late_idx ON breaches (COALESCE(due_at, '9999-12-31T00:00:00.000000Z'), id) WHERE resolved_at IS NULL;
CREATE INDEX breaches_open_due_idx ON breaches (COALESCE(due_at, '0001-01-01T00:00:00.000000Z'), id) WHERE resolved_at IS NULL;
CREATE INDEX breaches_detected_id_idx ON breaches (detected_at, id);
CREATE INDEX dossiers_receipt_idx ON dossiers (receipt_no) WHERE receipt_no <> '';
CREATE INDEX job_runs_job_id_idx ON job_runs (job, id);

-- +goose Down
DROP INDEX job_runs_job_id_idx;
DROP INDEX dossiers_receipt_idx;
DROP INDEX breaches_detected_id_idx;
DROP INDEX breaches_open_due_idx;
DROP INDEX breaches_open_late_idx;
DROP INDEX breaches_due_idx;
DROP INDEX breaches_late_idx;
