CREATE TABLE public.stats (id integer PRIMARY KEY, hits bigint NOT NULL DEFAULT 0, misses bigint NOT NULL DEFAULT 0);
