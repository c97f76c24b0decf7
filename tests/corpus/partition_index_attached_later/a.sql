-- a partitioned table's index built ON ONLY (invalid until every partition has one attached):
-- one partition's index attached, one partition's index of the same definition not yet, one
-- partition with none; and a plain table's unique index a key of the same name will replace
CREATE TABLE public.events (kind text, at date) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
CREATE TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');
CREATE TABLE public.events_c PARTITION OF public.events FOR VALUES IN ('c');
CREATE INDEX events_at ON ONLY public.events (at);
CREATE INDEX events_a_at ON public.events_a (at);
ALTER INDEX public.events_at ATTACH PARTITION public.events_a_at;
CREATE INDEX events_b_at ON public.events_b (at);
CREATE TABLE public.codes (code text);
CREATE UNIQUE INDEX codes_code ON public.codes (code);
