-- The outbox's counts by state (NotificationCounts: /metrics at every
-- scrape, the dashboard) read this index on SQLite, never the rows. There a
-- row's sent_at and failed_at lie past its bodies, in overflow pages that a
-- read walks one by one: a count read tens of kilobytes for every email ever
-- sent (measured: 40 ms of CPU per count over 2,000 digests). PostgreSQL
-- keeps the bodies out of line (TOAST), so its scan of the rows stays
-- cheap; the index is made there too, to keep the two schemas alike.
-- migrations/postgres/00016 is the same in the other engine.

-- +goose Up
CREATE INDEX notifications_state_idx ON notifications (sent_at, failed_at);

-- +goose Down
DROP INDEX notifications_state_idx;
