-- that index dropped (the partition keeps its key) and another unique index on the parent
-- that takes over both partitions' own keys
CREATE TABLE public.ledger (k text NOT NULL, id integer NOT NULL) PARTITION BY LIST (k);
CREATE TABLE public.ledger_1 PARTITION OF public.ledger FOR VALUES IN ('1');
CREATE TABLE public.ledger_2 PARTITION OF public.ledger FOR VALUES IN ('2');
ALTER TABLE public.ledger_1 ADD CONSTRAINT ledger_1_pkey PRIMARY KEY (k, id);
ALTER TABLE public.ledger_2 ADD CONSTRAINT ledger_2_key UNIQUE (k, id);
CREATE UNIQUE INDEX ledger_unique ON public.ledger (k, id);
