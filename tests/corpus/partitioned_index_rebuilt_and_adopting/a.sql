-- a partitioned table's index whose partitions' indexes have names of their own, and a
-- partition with a unique index of its own
CREATE TABLE public.metrics (k text NOT NULL, a integer) PARTITION BY LIST (k);
CREATE TABLE public.metrics_1 PARTITION OF public.metrics FOR VALUES IN ('1');
CREATE TABLE public.metrics_2 PARTITION OF public.metrics FOR VALUES IN ('2');
CREATE INDEX metrics_a ON public.metrics (a);
ALTER INDEX public.metrics_1_a_idx RENAME TO metrics_1_by_a;
CREATE UNIQUE INDEX metrics_2_ka ON public.metrics_2 (k, a);
