CREATE SEQUENCE public.invoice_no START 1000 INCREMENT 10 CACHE 5;
CREATE TABLE public.invoices (no bigint PRIMARY KEY DEFAULT nextval('public.invoice_no'));
