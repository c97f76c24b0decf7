CREATE TABLE docs (
    a text,
    b text,
    c text
);
CREATE INDEX i_added ON docs (a);
COMMENT ON INDEX i_added IS 'Hello, it''s me.';
CREATE INDEX i_changed ON docs (b);
COMMENT ON INDEX i_changed IS 'After.';
CREATE INDEX i_removed ON docs (c);
