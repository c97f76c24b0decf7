-- old_sum and its function dropped; concat_all redefined (separator, final function); total
-- commented and kept under its view; a moving-mode aggregate with a combine function added,
-- and a view using it.
CREATE SCHEMA app;
CREATE FUNCTION app.concat_accum(state text, x text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$SELECT CASE WHEN state = '' THEN x ELSE state || ',' || x END$$;
CREATE FUNCTION app.concat_final(state text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$SELECT '[' || state || ']'$$;
CREATE FUNCTION app.count_accum(state bigint, x anyelement) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$SELECT state + 1$$;
CREATE FUNCTION app.count_retract(state bigint, x anyelement) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$SELECT state - 1$$;
CREATE AGGREGATE app.concat_all(text) (
    SFUNC = app.concat_accum, STYPE = text, FINALFUNC = app.concat_final, INITCOND = ''
);
CREATE AGGREGATE app.total(integer) (SFUNC = int4pl, STYPE = integer, PARALLEL = SAFE);
COMMENT ON AGGREGATE app.total(integer) IS 'the sum, null when there are no rows';
CREATE AGGREGATE app.biggest(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
CREATE AGGREGATE app.moving_count(anyelement) (
    SFUNC = app.count_accum, STYPE = bigint, INITCOND = '0', COMBINEFUNC = int8pl,
    MSFUNC = app.count_accum, MINVFUNC = app.count_retract, MSTYPE = bigint, MINITCOND = '0',
    PARALLEL = SAFE
);
CREATE TABLE app.items (id integer, label text, qty integer);
CREATE VIEW app.item_totals AS SELECT app.total(qty) AS qty FROM app.items;
CREATE VIEW app.item_counts AS
    SELECT id, app.moving_count(label) OVER (ORDER BY id ROWS 2 PRECEDING) AS recent
    FROM app.items;
