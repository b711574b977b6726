-- Admin UI sessions ended by a logout (admin package): a session cookie
-- carries a random id, and one whose id is here is refused by every replica.
-- A row is kept until the session would have expired, then deleted by the
-- next revocation. migrations/postgres/00014 is the same in the other
-- engine's types.

-- +goose Up
CREATE TABLE revoked_sessions (
    id         TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX revoked_sessions_expires_idx ON revoked_sessions (expires_at);

-- +goose Down
DROP INDEX revoked_sessions_expires_idx;
DROP TABLE revoked_sessions;
