-- a table's storage parameters (its TOAST table's too): set, changed, reset, on new tables
CREATE TABLE public.hot (id integer, body text) WITH (fillfactor = 80, toast.autovacuum_enabled = false);
CREATE TABLE public.cold (id integer, body text) WITH (autovacuum_vacuum_scale_factor = 0.05, toast_tuple_target = 256);
CREATE TABLE public.plain (id integer);
CREATE TABLE public.events (kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a') WITH (fillfactor = 50);
CREATE TABLE public.fresh (id integer, body text) WITH (fillfactor = 60, toast.autovacuum_enabled = off);
CREATE UNLOGGED TABLE public.fresh_unlogged (id integer) WITH (fillfactor = 40);
