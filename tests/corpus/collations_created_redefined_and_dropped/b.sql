-- The collations redefined, commented, added and dropped; a domain, a column, an index and a
-- view name the new ones.
CREATE SCHEMA app;
CREATE COLLATION app.posix FROM "POSIX";
COMMENT ON COLLATION app.posix IS 'code point order';
CREATE COLLATION app."Numeric Order" (provider = icu, locale = 'en-u-kn-true');
CREATE COLLATION app.mixed (lc_collate = 'C', lc_ctype = 'C.UTF-8');
CREATE COLLATION app.redefined (provider = icu, locale = 'de-u-kn-true', deterministic = false);
COMMENT ON COLLATION app.redefined IS 'German, numbers by value';

CREATE DOMAIN app.code AS text COLLATE app."Numeric Order";

CREATE TABLE app.t (
    id integer PRIMARY KEY,
    a text COLLATE app."Numeric Order",
    b text,
    c app.code,
    d text COLLATE app.mixed
);
CREATE INDEX t_a ON app.t (a COLLATE app.posix);
CREATE INDEX t_d ON app.t (d COLLATE app.redefined);
CREATE VIEW app.v AS SELECT id, d COLLATE app.posix AS d FROM app.t;
