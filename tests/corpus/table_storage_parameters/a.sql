-- a table's storage parameters (its TOAST table's too): set, changed, reset, on new tables
CREATE TABLE public.hot (id integer, body text) WITH (fillfactor = 70, autovacuum_enabled = off);
CREATE TABLE public.cold (id integer, body text);
CREATE TABLE public.plain (id integer) WITH (fillfactor = 90);
CREATE TABLE public.events (kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
