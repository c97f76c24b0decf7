-- A function others are bound to gets a new signature (a new return type): the routines
-- calling it, and the ones calling those, are dropped before and created again after, and
-- keep what roles held on them. A column an SQL-standard body reads is retyped.
DO $x$ BEGIN CREATE ROLE corpus_fn_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $x$;

CREATE SCHEMA calc;

CREATE TABLE calc.reading (id integer PRIMARY KEY, level smallint NOT NULL);

CREATE FUNCTION calc.scale(v integer, factor integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN v * factor;

CREATE FUNCTION calc.double_it(v integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN calc.scale(v, 2);

CREATE FUNCTION calc.quadruple(v integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC
        SELECT calc.double_it(calc.double_it(v));
    END;

CREATE FUNCTION calc.peak() RETURNS integer
    LANGUAGE sql STABLE
    RETURN (SELECT max(level) FROM calc.reading);

CREATE FUNCTION calc.untouched(v integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN v + 1;

GRANT EXECUTE ON FUNCTION calc.double_it(integer) TO corpus_fn_reader;
GRANT EXECUTE ON FUNCTION calc.quadruple(integer) TO corpus_fn_reader WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION calc.quadruple(integer) FROM PUBLIC;
