CREATE TABLE public.names (id integer PRIMARY KEY, name text, seen timestamptz DEFAULT now());
