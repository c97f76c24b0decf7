CREATE TABLE public.docs (id integer PRIMARY KEY, title text, body jsonb, rank integer, tags text[]);
