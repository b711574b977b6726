-- Incremental detection proportional to change (issue 15, item 2). Each
-- dossier keeps next_check: the earliest time at which time alone could
-- change its breaches or whom they are told to (NULL: never, a finished
-- dossier); a pass evaluates the dossiers whose next_check has come, in
-- next_check order through dossiers_next_check_idx. Before it scans, a pass
-- brings forward (to the epoch) the dossiers written since the last one
-- (dossiers_updated_idx) and those whose reconciliation findings changed
-- (changed_at: opened, reopened, of another kind or status, resolved).
-- detector_state keeps the last pass's evaluation time (a silence that ended
-- since forces a full sweep) and the fingerprint of the configuration the
-- next checks were computed by. last_full_at is cleared so that the first
-- pass after this migration is a full sweep, which computes every dossier's
-- next_check. migrations/sqlite/00015 is the same in the other engine's
-- types.

-- +goose Up
ALTER TABLE dossiers ADD COLUMN next_check TIMESTAMPTZ;
CREATE INDEX dossiers_next_check_idx ON dossiers (next_check, source, code) WHERE next_check IS NOT NULL;
CREATE INDEX dossiers_updated_idx ON dossiers (updated_at);
ALTER TABLE reconciliation_findings ADD COLUMN changed_at TIMESTAMPTZ;
CREATE INDEX reconciliation_findings_changed_idx ON reconciliation_findings (changed_at);
ALTER TABLE detector_state ADD COLUMN last_now TIMESTAMPTZ;
ALTER TABLE detector_state ADD COLUMN config TEXT NOT NULL DEFAULT '';
UPDATE detector_state SET last_full_at = NULL;

-- +goose Down
ALTER TABLE detector_state DROP COLUMN config;
ALTER TABLE detector_state DROP COLUMN last_now;
DROP INDEX reconciliation_findings_changed_idx;
ALTER TABLE reconciliation_findings DROP COLUMN changed_at;
DROP INDEX dossiers_updated_idx;
DROP INDEX dossiers_next_check_idx;
ALTER TABLE dossiers DROP COLUMN next_check;
