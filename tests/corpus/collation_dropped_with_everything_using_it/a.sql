-- A collation in a schema of its own, used by a column, a domain, a composite type, an
-- index expression and a view; all of them go, and so do the collation and its schema.
CREATE SCHEMA text_rules;
CREATE COLLATION text_rules.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
COMMENT ON COLLATION text_rules.ci IS 'case-insensitive';

CREATE DOMAIN public.handle AS text COLLATE text_rules.ci;
CREATE TYPE public.person AS (name text COLLATE text_rules.ci, age integer);

CREATE TABLE public.users (
    id integer PRIMARY KEY,
    email text COLLATE text_rules.ci NOT NULL,
    nick public.handle,
    note text
);
CREATE UNIQUE INDEX users_email ON public.users (email);
CREATE INDEX users_note_ci ON public.users ((lower(note) COLLATE text_rules.ci));
CREATE VIEW public.by_note AS SELECT id, note COLLATE text_rules.ci AS note FROM public.users;
