CREATE TABLE public.orders (id serial PRIMARY KEY, note text);
GRANT SELECT, INSERT ON public.orders TO PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE public.orders_id_seq TO PUBLIC;
CREATE TABLE public.invoices (id bigserial PRIMARY KEY);
GRANT UPDATE ON SEQUENCE public.invoices_id_seq TO PUBLIC;
