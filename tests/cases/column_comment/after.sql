CREATE TABLE notes (
    added text,
    changed text,
    removed text
);
COMMENT ON TABLE notes IS 'New table comment, with ''quotes'' and ünïcode.';
COMMENT ON COLUMN notes.added IS 'Brand new; it''s here.';
COMMENT ON COLUMN notes.changed IS 'New words.';
CREATE TABLE plain (
    a text
);
