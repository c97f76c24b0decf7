-- Aggregates over functions of their own and pg_catalog's: one dropped with its transition
-- function, one redefined, one that gains a comment, one used by a view that stays.
CREATE SCHEMA app;
CREATE FUNCTION app.concat_accum(state text, x text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$SELECT CASE WHEN state = '' THEN x ELSE state || ',' || x END$$;
CREATE FUNCTION app.old_accum(state bigint, x integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$SELECT state + x$$;
CREATE AGGREGATE app.concat_all(text) (SFUNC = app.concat_accum, STYPE = text, INITCOND = '');
CREATE AGGREGATE app.old_sum(integer) (SFUNC = app.old_accum, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE app.total(integer) (SFUNC = int4pl, STYPE = integer, PARALLEL = SAFE);
CREATE AGGREGATE app.biggest(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
CREATE TABLE app.items (id integer, label text, qty integer);
CREATE VIEW app.item_totals AS SELECT app.total(qty) AS qty FROM app.items;
