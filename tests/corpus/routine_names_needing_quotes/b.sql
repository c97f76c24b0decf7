CREATE TABLE public.keep_me (id integer);

CREATE FUNCTION public."plus one"(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN n + 1;

CREATE FUNCTION public."plus one"(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN t || '1';

CREATE FUNCTION public."say ""hi"""(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN public."plus one"(n) * 2;

CREATE FUNCTION public."z""; DROP TABLE public.keep_me; --"(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC
        SELECT public."say ""hi"""(n);
    END;

COMMENT ON FUNCTION public."z""; DROP TABLE public.keep_me; --"(integer) IS 'odd; name';

CREATE PROCEDURE public."run it""now"(n integer)
    LANGUAGE sql
    BEGIN ATOMIC
        SELECT public."plus one"(n);
    END;

-- a parenthesis in the name, a grant, and PUBLIC's EXECUTE taken away
DO $x$ BEGIN CREATE ROLE corpus_fn_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $x$;

CREATE FUNCTION public."half(of"(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN n / 2;

GRANT EXECUTE ON FUNCTION public."half(of"(integer) TO corpus_fn_reader;
REVOKE EXECUTE ON FUNCTION public."half(of"(integer) FROM PUBLIC;
