-- two partitioned tables with a key each; a partition of the first
CREATE TABLE public.jobs_old (k text NOT NULL, id integer NOT NULL, UNIQUE (k, id))
    PARTITION BY LIST (k);
CREATE TABLE public.jobs_new (k text NOT NULL, id integer NOT NULL, UNIQUE (k, id))
    PARTITION BY LIST (k);
CREATE TABLE public.jobs_x PARTITION OF public.jobs_old FOR VALUES IN ('x');
