-- the parent's index built again with another definition: one partition's index under a new
-- name of its own, the other partition's own unique index taken over by it
CREATE TABLE public.metrics (k text NOT NULL, a integer) PARTITION BY LIST (k);
CREATE TABLE public.metrics_1 PARTITION OF public.metrics FOR VALUES IN ('1');
CREATE TABLE public.metrics_2 PARTITION OF public.metrics FOR VALUES IN ('2');
CREATE UNIQUE INDEX metrics_2_ka ON public.metrics_2 (k, a);
CREATE UNIQUE INDEX metrics_a ON public.metrics (k, a);
ALTER INDEX public.metrics_1_k_a_idx RENAME TO metrics_1_unique;
