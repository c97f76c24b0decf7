CREATE TABLE public.items (id integer PRIMARY KEY, price numeric(10,2) NOT NULL, qty integer NOT NULL);
