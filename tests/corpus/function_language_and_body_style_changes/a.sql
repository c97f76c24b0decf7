-- Each function changes its language or the style of its body: quoted sql → SQL-standard,
-- SQL-standard → plpgsql, plpgsql → BEGIN ATOMIC, and a caller bound to one of them.
CREATE FUNCTION public.greet(who text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT 'hello ' || who $$;

CREATE FUNCTION public.twice(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN n * 2;

CREATE FUNCTION public.clamp(n integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN greatest(0, least(n, 100)); END $$;

CREATE FUNCTION public.clamp_twice(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN public.clamp(public.twice(n));
