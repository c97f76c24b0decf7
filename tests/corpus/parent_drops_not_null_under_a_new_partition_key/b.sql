-- the parent's columns become nullable while the partition gets a key on one of them: a
-- second run of the up file must not reach the key's column with DROP NOT NULL
CREATE TABLE public.orders (id int, region text, note text) PARTITION BY LIST (region);
CREATE TABLE public.orders_eu PARTITION OF public.orders (
    CONSTRAINT orders_eu_key PRIMARY KEY (region, id)) FOR VALUES IN ('eu');
