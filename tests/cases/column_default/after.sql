CREATE TABLE settings (
    id integer NOT NULL,
    added integer DEFAULT 42,
    changed text DEFAULT 'new' || 'er',
    removed timestamptz,
    retyped bigint DEFAULT 2
);
