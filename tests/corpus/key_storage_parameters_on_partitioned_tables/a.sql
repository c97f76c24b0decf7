-- keys with storage parameters on a partitioned table (its partitions' copies take the same;
-- Postgres changes a partitioned index's in no ALTER INDEX, so a new value makes the key
-- again) and a partition's own key (changed in place)
CREATE TABLE public.sales (
    region text NOT NULL,
    id bigint NOT NULL,
    ref text,
    CONSTRAINT sales_pkey PRIMARY KEY (region, id) WITH (fillfactor = 70),
    CONSTRAINT sales_ref_key UNIQUE (region, ref) WITH (fillfactor = 80)
) PARTITION BY LIST (region);
CREATE TABLE public.sales_eu PARTITION OF public.sales FOR VALUES IN ('eu');
CREATE TABLE public.sales_us PARTITION OF public.sales FOR VALUES IN ('us');
ALTER TABLE public.sales_us ADD CONSTRAINT sales_us_id_key UNIQUE (id) WITH (fillfactor = 50);
INSERT INTO public.sales VALUES ('eu', 1, 'a'), ('us', 2, 'b');
