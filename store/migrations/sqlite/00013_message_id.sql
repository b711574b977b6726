-- Each email's Message-ID (the part left of "@"; the domain is added when it
-- is sent), chosen once when the row is written: a random UUID, so that no
-- two installations, and no database rebuilt with ids starting again at 1,
-- give two emails the same one, while every attempt at one row sends the
-- same. Rows written before this migration keep the Message-ID they were
-- sent with, derived from the row id, so that a retry of one of them is still
-- recognised as the same message. migrations/postgres/00013 is the same in the
-- other engine.

-- +goose Up
ALTER TABLE notifications ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
UPDATE notifications SET message_id = 'dvcwatch.notification.' || id;

-- +goose Down
ALTER TABLE notifications DROP COLUMN message_id;
