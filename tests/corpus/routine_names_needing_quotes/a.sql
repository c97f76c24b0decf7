-- Routine names that need quoting (a space, a double quote, an attempt at injection), with
-- overloads, SQL-standard bodies calling each other and a comment; one is dropped; one with a
-- parenthesis in its name has a grant and PUBLIC's EXECUTE revoked.
CREATE TABLE public.keep_me (id integer);

CREATE FUNCTION public."to be dropped"(n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN n;
