-- replica identity: in place, onto and off an index, an index that is the identity rebuilt
-- or dropped, on plain and partitioned tables and partitions, with tables created and dropped
CREATE TABLE public.orders (id integer PRIMARY KEY, code text NOT NULL);
ALTER TABLE public.orders REPLICA IDENTITY FULL;
CREATE TABLE public.items (id integer PRIMARY KEY, sku text NOT NULL, lot text NOT NULL);
CREATE UNIQUE INDEX items_sku ON public.items (sku);
CREATE UNIQUE INDEX items_lot ON public.items (lot);
ALTER TABLE public.items REPLICA IDENTITY USING INDEX items_sku;
CREATE TABLE public.parts (id integer NOT NULL, tag text NOT NULL);
CREATE UNIQUE INDEX parts_tag ON public.parts (tag);
ALTER TABLE public.parts REPLICA IDENTITY USING INDEX parts_tag;
CREATE TABLE public.keyed (id integer NOT NULL, CONSTRAINT keyed_key UNIQUE (id));
ALTER TABLE public.keyed REPLICA IDENTITY USING INDEX keyed_key;
CREATE TABLE public.old_log (id integer NOT NULL, note text NOT NULL);
CREATE UNIQUE INDEX old_log_note ON public.old_log (note);
ALTER TABLE public.old_log REPLICA IDENTITY USING INDEX old_log_note;
CREATE TABLE public.events (kind text NOT NULL, id integer NOT NULL) PARTITION BY LIST (kind);
ALTER TABLE public.events REPLICA IDENTITY FULL;
CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');
ALTER TABLE public.events_a REPLICA IDENTITY NOTHING;
CREATE TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');
CREATE TABLE public.accounts (id integer NOT NULL, region text NOT NULL, CONSTRAINT accounts_pkey PRIMARY KEY (id));
ALTER TABLE public.accounts REPLICA IDENTITY USING INDEX accounts_pkey;
CREATE TABLE public.old_keyed (id integer PRIMARY KEY);
ALTER TABLE public.old_keyed REPLICA IDENTITY USING INDEX old_keyed_pkey;
CREATE TABLE public.ledger (kind text NOT NULL, id integer NOT NULL, PRIMARY KEY (kind, id)) PARTITION BY LIST (kind);
CREATE TABLE public.ledger_a PARTITION OF public.ledger FOR VALUES IN ('a');
