CREATE TABLE public.t (id integer PRIMARY KEY, a integer, b integer);
CREATE INDEX idx_t_a ON public.t (a);
CREATE INDEX idx_t_old ON public.t (b);
