CREATE TABLE public.codes (code text NOT NULL UNIQUE, id integer PRIMARY KEY);
