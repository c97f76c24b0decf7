-- the partition moved to the second table, its index of the key under a name of its own
CREATE TABLE public.jobs_old (k text NOT NULL, id integer NOT NULL, UNIQUE (k, id))
    PARTITION BY LIST (k);
CREATE TABLE public.jobs_new (k text NOT NULL, id integer NOT NULL, UNIQUE (k, id))
    PARTITION BY LIST (k);
CREATE TABLE public.jobs_x PARTITION OF public.jobs_new FOR VALUES IN ('x', 'y');
ALTER INDEX public.jobs_x_k_id_key RENAME TO jobs_x_unique;
