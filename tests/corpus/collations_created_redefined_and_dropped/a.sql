-- Collations of both providers, one used by a column and an index, one only by a column that
-- moves off it before it is dropped, one redefined while nothing uses it.
CREATE SCHEMA app;
CREATE COLLATION app.posix FROM "POSIX";
COMMENT ON COLLATION app.posix IS 'byte order';
CREATE COLLATION app.old_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION app.redefined (provider = icu, locale = 'en-u-kn-true');

CREATE TABLE app.t (
    id integer PRIMARY KEY,
    a text COLLATE app.posix,
    b text COLLATE app.old_ci
);
CREATE INDEX t_a ON app.t (a COLLATE app.posix);
