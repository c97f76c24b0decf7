CREATE TABLE public.events (id integer NOT NULL, at timestamptz NOT NULL, kind text);
CREATE TABLE public.clicks (target text) INHERITS (public.events);
