CREATE FUNCTION public.greet(who text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN 'hello ' || who;

CREATE FUNCTION public.twice(n integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN n + n; END $$;

CREATE FUNCTION public.clamp(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC
        SELECT greatest(0, least(n, 100));
    END;

CREATE FUNCTION public.clamp_twice(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN public.clamp(public.twice(n));
