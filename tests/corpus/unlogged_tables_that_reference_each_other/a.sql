-- persistence changes ordered by foreign keys: a permanent table may not reference an
-- unlogged one, so the referencing table goes unlogged first and the referenced logged first
CREATE TABLE public.a_parent (id integer PRIMARY KEY);
CREATE TABLE public.b_child (id integer REFERENCES public.a_parent);
CREATE UNLOGGED TABLE public.d_parent (id integer PRIMARY KEY);
CREATE UNLOGGED TABLE public.c_child (id integer REFERENCES public.d_parent);
