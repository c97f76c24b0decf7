-- a partitioned table whose columns are NOT NULL, a partition with a unique index
CREATE TABLE public.orders (id int, region text NOT NULL, note text NOT NULL)
    PARTITION BY LIST (region);
CREATE TABLE public.orders_eu PARTITION OF public.orders FOR VALUES IN ('eu');
CREATE UNIQUE INDEX orders_eu_key ON public.orders_eu (region, id);
