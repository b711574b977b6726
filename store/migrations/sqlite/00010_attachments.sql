-- An email may carry one attachment: the office's daily summary attaches its
-- full list as a workbook instead of inlining it (mail over about 100 KB is
-- clipped). migrations/postgres/00010 is the same in the other engine's types.

-- +goose Up
ALTER TABLE notifications ADD COLUMN attachment_name TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN attachment_type TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN attachment BLOB;

-- +goose Down
ALTER TABLE notifications DROP COLUMN attachment;
ALTER TABLE notifications DROP COLUMN attachment_type;
ALTER TABLE notifications DROP COLUMN attachment_name;
