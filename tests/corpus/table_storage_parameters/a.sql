-- storage parameters of tables (their TOAST tables' too) and indexes: set, changed, reset,
-- on new ones
CREATE TABLE public.hot (id integer, body text) WITH (fillfactor = 70, autovacuum_enabled = off);
CREATE TABLE public.cold (id integer, body text);
CREATE TABLE public.plain (id integer) WITH (fillfactor = 90);
CREATE TABLE public.events (kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
CREATE INDEX hot_id ON public.hot (id) WITH (fillfactor = 50, deduplicate_items = off);
CREATE INDEX cold_id ON public.cold (id);
CREATE INDEX plain_id ON public.plain USING hash (id) WITH (fillfactor = 60);
