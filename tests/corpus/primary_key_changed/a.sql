CREATE TABLE public.codes (code text PRIMARY KEY, id integer NOT NULL);
