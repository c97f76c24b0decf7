CREATE DOMAIN public.email AS text CHECK (VALUE ~ '@');
CREATE TABLE public.contacts (id integer PRIMARY KEY, email public.email);
