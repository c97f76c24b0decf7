-- replica identity: in place, onto and off an index, an index that is the identity rebuilt
-- or dropped, on plain and partitioned tables and partitions, with tables created and dropped
CREATE TABLE public.orders (id integer PRIMARY KEY, code text NOT NULL);
ALTER TABLE public.orders REPLICA IDENTITY USING INDEX orders_pkey;
CREATE TABLE public.items (id integer PRIMARY KEY, sku text NOT NULL, lot text NOT NULL);
CREATE UNIQUE INDEX items_sku ON public.items (sku, lot);
CREATE UNIQUE INDEX items_lot ON public.items (lot);
ALTER TABLE public.items REPLICA IDENTITY USING INDEX items_sku;
CREATE TABLE public.parts (id integer NOT NULL, tag text NOT NULL);
CREATE UNIQUE INDEX parts_id ON public.parts (id);
ALTER TABLE public.parts REPLICA IDENTITY USING INDEX parts_id;
CREATE TABLE public.keyed (id integer NOT NULL, CONSTRAINT keyed_key UNIQUE (id));
CREATE TABLE public.events (kind text NOT NULL, id integer NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
ALTER TABLE public.events_a REPLICA IDENTITY FULL;
CREATE TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');
ALTER TABLE public.events_b REPLICA IDENTITY NOTHING;
CREATE TABLE public.fresh (id integer NOT NULL, code text NOT NULL);
CREATE UNIQUE INDEX fresh_code ON public.fresh (code);
ALTER TABLE public.fresh REPLICA IDENTITY USING INDEX fresh_code;
CREATE TABLE public.fresh_full (id integer);
ALTER TABLE public.fresh_full REPLICA IDENTITY FULL;
CREATE TABLE public.accounts (id integer NOT NULL, region text NOT NULL, CONSTRAINT accounts_pkey PRIMARY KEY (id, region));
ALTER TABLE public.accounts REPLICA IDENTITY USING INDEX accounts_pkey;
CREATE TABLE public.ledger (kind text NOT NULL, id integer NOT NULL, PRIMARY KEY (kind, id)) PARTITION BY LIST (kind);
CREATE TABLE public.ledger_a PARTITION OF public.ledger FOR VALUES IN ('a');
ALTER TABLE public.ledger_a REPLICA IDENTITY USING INDEX ledger_a_pkey;
CREATE TABLE public.ledger_b PARTITION OF public.ledger FOR VALUES IN ('b');
ALTER TABLE public.ledger_b REPLICA IDENTITY USING INDEX ledger_b_pkey;
