CREATE TABLE public.vehicles (id integer, wheels integer);
CREATE TABLE public.cars (doors integer) INHERITS (public.vehicles);
