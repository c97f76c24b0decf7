-- a partitioned table whose key a referencing table uses; one partition to be dropped
CREATE TABLE public.accounts (region text NOT NULL, id integer NOT NULL, PRIMARY KEY (region, id))
    PARTITION BY LIST (region);
CREATE TABLE public.accounts_eu PARTITION OF public.accounts FOR VALUES IN ('eu');
CREATE TABLE public.accounts_us PARTITION OF public.accounts FOR VALUES IN ('us');
CREATE TABLE public.payments (region text, account integer,
    FOREIGN KEY (region, account) REFERENCES public.accounts (region, id));
