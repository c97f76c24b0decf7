CREATE TABLE public.orders (id serial PRIMARY KEY, note text);
GRANT SELECT ON public.orders TO PUBLIC;
