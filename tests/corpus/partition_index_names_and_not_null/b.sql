-- partitions' indexes under names of their own (one built before its parent's, one renamed,
-- one a new partition's own key backing the parent's unique index), NOT NULL on a
-- partition's column alone, and a partition's key dropped (its NOT NULL goes with it)
CREATE TABLE public.readings (
    site text NOT NULL,
    id integer NOT NULL,
    note text,
    taken date
) PARTITION BY LIST (site);
CREATE TABLE public.readings_a PARTITION OF public.readings FOR VALUES IN ('a');
CREATE TABLE public.readings_b PARTITION OF public.readings FOR VALUES IN ('b');
CREATE TABLE public.readings_c PARTITION OF public.readings (
    UNIQUE (site, id)
) FOR VALUES IN ('c');
CREATE INDEX a_taken ON public.readings_a (taken);
CREATE INDEX readings_taken_idx ON public.readings (taken);
ALTER INDEX public.readings_b_taken_idx RENAME TO b_taken;
CREATE UNIQUE INDEX readings_site_id ON public.readings (site, id);
ALTER TABLE public.readings_b ALTER COLUMN taken SET NOT NULL;
