-- a partitioned table with a key and an index, and two plain tables with its columns: one
-- with an index of the parent index's definition, one with a key of its own
CREATE TABLE public.orders (region text NOT NULL, id integer NOT NULL, placed date,
    PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE INDEX orders_placed ON public.orders (placed);
CREATE TABLE public.orders_eu (region text NOT NULL, id integer NOT NULL, placed date);
CREATE INDEX orders_eu_by_day ON public.orders_eu (placed);
CREATE TABLE public.orders_us (region text NOT NULL, id integer NOT NULL, placed date,
    CONSTRAINT orders_us_key PRIMARY KEY (region, id));
