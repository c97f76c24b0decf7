-- both tables attached as partitions in place: the first keeps its index as its own and has
-- the parent's built beside it, the second's key backs the parent's
CREATE TABLE public.orders (region text NOT NULL, id integer NOT NULL, placed date,
    PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE public.orders_eu (region text NOT NULL, id integer NOT NULL, placed date);
CREATE TABLE public.orders_us (region text NOT NULL, id integer NOT NULL, placed date,
    CONSTRAINT orders_us_key PRIMARY KEY (region, id));
ALTER TABLE public.orders ATTACH PARTITION public.orders_eu FOR VALUES IN ('eu');
ALTER TABLE public.orders ATTACH PARTITION public.orders_us FOR VALUES IN ('us');
CREATE INDEX orders_placed ON public.orders (placed);
CREATE INDEX orders_eu_by_day ON public.orders_eu (placed);
