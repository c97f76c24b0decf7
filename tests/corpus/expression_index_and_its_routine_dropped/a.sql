-- An expression index on a table holding rows and the routine it calls are both dropped:
-- the index goes inside the transaction, before the routine (not concurrently after the
-- commit, when the routine's drop would already have failed).
CREATE FUNCTION public.initials(full_name text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN upper(left(full_name, 1));

CREATE TABLE public.person (id integer PRIMARY KEY, full_name text NOT NULL);

INSERT INTO public.person VALUES (1, 'ada lovelace'), (2, 'grace hopper');

CREATE INDEX person_initials ON public.person (public.initials(full_name));
