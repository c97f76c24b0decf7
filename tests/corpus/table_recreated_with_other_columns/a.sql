CREATE TABLE public.stats (id integer PRIMARY KEY, hits integer);
