-- storage parameters of tables (their TOAST tables' too) and indexes: set, changed, reset,
-- on new ones
CREATE TABLE public.hot (id integer, body text) WITH (fillfactor = 80, toast.autovacuum_enabled = false);
CREATE TABLE public.cold (id integer, body text) WITH (autovacuum_vacuum_scale_factor = 0.05, toast_tuple_target = 256);
CREATE TABLE public.plain (id integer);
CREATE TABLE public.events (kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a') WITH (fillfactor = 50);
CREATE TABLE public.fresh (id integer, body text) WITH (fillfactor = 60, toast.autovacuum_enabled = off);
CREATE UNLOGGED TABLE public.fresh_unlogged (id integer) WITH (fillfactor = 40);
CREATE INDEX hot_id ON public.hot (id) WITH (deduplicate_items = off, fillfactor = 50);
CREATE INDEX cold_id ON public.cold (id) WITH (fillfactor = 30);
CREATE INDEX plain_id ON public.plain USING hash (id);
CREATE INDEX fresh_body ON public.fresh (body) WITH (fillfactor = 55) WHERE body <> '';
CREATE INDEX events_kind ON public.events (kind) WITH (fillfactor = 65);
