-- a partitioned table's unique index built ON ONLY, one partition's own primary key attached
-- to it, the other partition with none (so the parent's index stays invalid)
CREATE TABLE public.ledger (k text NOT NULL, id integer NOT NULL) PARTITION BY LIST (k);
CREATE TABLE public.ledger_1 PARTITION OF public.ledger FOR VALUES IN ('1');
CREATE TABLE public.ledger_2 PARTITION OF public.ledger FOR VALUES IN ('2');
CREATE UNIQUE INDEX ledger_kid ON ONLY public.ledger (k, id);
ALTER TABLE public.ledger_1 ADD CONSTRAINT ledger_1_pkey PRIMARY KEY (k, id);
ALTER INDEX public.ledger_kid ATTACH PARTITION public.ledger_1_pkey;
