-- a foreign key to one partition (its key is its parent's), one from a partition, and a
-- partition dropped while foreign keys reference its parent
CREATE TABLE public.accounts (region text NOT NULL, id integer NOT NULL, PRIMARY KEY (region, id))
    PARTITION BY LIST (region);
CREATE TABLE public.accounts_eu PARTITION OF public.accounts FOR VALUES IN ('eu');
CREATE TABLE public.payments (region text, account integer,
    FOREIGN KEY (region, account) REFERENCES public.accounts (region, id));
CREATE TABLE public.eu_notes (region text, account integer,
    FOREIGN KEY (region, account) REFERENCES public.accounts_eu (region, id));
ALTER TABLE public.accounts_eu ADD CONSTRAINT accounts_eu_self
    FOREIGN KEY (region, id) REFERENCES public.accounts_eu (region, id);
