-- a partitioned table with an index and a key; partitions whose indexes are not (yet) named
-- as they will be, and NOT NULL columns a partition's own key gave it
CREATE TABLE public.readings (
    site text NOT NULL,
    id integer NOT NULL,
    note text,
    taken date
) PARTITION BY LIST (site);
CREATE INDEX readings_taken_idx ON public.readings (taken);
CREATE TABLE public.readings_a PARTITION OF public.readings (
    CONSTRAINT readings_a_own_key PRIMARY KEY (site, id, note)
) FOR VALUES IN ('a');
CREATE TABLE public.readings_b PARTITION OF public.readings FOR VALUES IN ('b');
ALTER INDEX public.readings_b_taken_idx RENAME TO readings_b_when;
