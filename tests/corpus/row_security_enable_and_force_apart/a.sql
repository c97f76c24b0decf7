-- ENABLE and FORCE row-level security set apart, on plain and partitioned tables and partitions
CREATE TABLE public.notes (id integer PRIMARY KEY);
ALTER TABLE public.notes FORCE ROW LEVEL SECURITY;
CREATE TABLE public.drafts (id integer);
CREATE TABLE public.tasks (id integer);
ALTER TABLE public.tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tasks FORCE ROW LEVEL SECURITY;
CREATE TABLE public.events (kind text NOT NULL, at date) PARTITION BY LIST (kind);
ALTER TABLE public.events ENABLE ROW LEVEL SECURITY;
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
ALTER TABLE public.events_a FORCE ROW LEVEL SECURITY;
CREATE TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');
ALTER TABLE public.events_b ENABLE ROW LEVEL SECURITY;
