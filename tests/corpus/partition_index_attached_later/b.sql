-- the partition's index attached (the parent's stays invalid: one partition has none), and
-- the unique index replaced by a unique key of the same name
CREATE TABLE public.events (kind text, at date) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
CREATE TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');
CREATE TABLE public.events_c PARTITION OF public.events FOR VALUES IN ('c');
CREATE INDEX events_at ON ONLY public.events (at);
CREATE INDEX events_a_at ON public.events_a (at);
ALTER INDEX public.events_at ATTACH PARTITION public.events_a_at;
CREATE INDEX events_b_at ON public.events_b (at);
ALTER INDEX public.events_at ATTACH PARTITION public.events_b_at;
CREATE TABLE public.codes (code text, CONSTRAINT codes_code UNIQUE (code));
