CREATE TYPE public.address AS (street text, city text);
CREATE TABLE public.shops (id integer PRIMARY KEY, addr public.address);
