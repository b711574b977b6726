-- A detection page reads the open findings of its own dossiers (loadChildren:
-- truth source and mirror, codes between the page's first and last). On
-- PostgreSQL the planner took the open findings' index on (truth_source,
-- mirror_source) and filtered the codes, so every page read every open
-- finding of its source: a sweep's cost grew with pages times findings. The
-- index now ends with the code, so a page reads its own findings alone; the
-- lists of all open findings are served as before. SQLite used the primary
-- key already. migrations/postgres/00017 is the same in the other engine.

-- +goose Up
DROP INDEX reconciliation_findings_open_idx;
CREATE INDEX reconciliation_findings_open_idx ON reconciliation_findings (truth_source, mirror_source, code) WHERE resolved_at IS NULL;

-- +goose Down
DROP INDEX reconciliation_findings_open_idx;
CREATE INDEX reconciliation_findings_open_idx ON reconciliation_findings (truth_source, mirror_source) WHERE resolved_at IS NULL;
