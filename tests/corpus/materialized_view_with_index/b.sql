CREATE TABLE public.sales (id integer PRIMARY KEY, amount numeric);
CREATE MATERIALIZED VIEW public.sales_total AS SELECT sum(amount) AS total, count(*) AS n FROM public.sales;
CREATE UNIQUE INDEX idx_sales_total ON public.sales_total (n);
