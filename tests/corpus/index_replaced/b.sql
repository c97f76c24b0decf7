CREATE TABLE public.t (id integer PRIMARY KEY, a integer, b integer);
CREATE INDEX idx_t_a ON public.t (a, b);
CREATE INDEX idx_t_b ON public.t (b) WHERE b IS NOT NULL;
