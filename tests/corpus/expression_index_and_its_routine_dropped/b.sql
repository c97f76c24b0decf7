CREATE TABLE public.person (id integer PRIMARY KEY, full_name text NOT NULL);
