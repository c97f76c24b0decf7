-- unlogged tables: created, dropped, set logged and unlogged (with the sequences their
-- columns own), partitions of their own persistence, an index and grants on one
CREATE TABLE public.cache (id integer PRIMARY KEY, v text);
CREATE UNLOGGED TABLE public.scratch (id serial PRIMARY KEY, n bigint GENERATED ALWAYS AS IDENTITY);
CREATE UNLOGGED TABLE public.gone (id integer);
CREATE TABLE public.events (kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
CREATE UNLOGGED TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');
