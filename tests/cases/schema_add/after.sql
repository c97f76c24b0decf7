CREATE TABLE customers (
    id integer NOT NULL,
    CONSTRAINT customers_pkey PRIMARY KEY (id)
);
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'Money.';
CREATE TYPE billing.state AS ENUM ('open', 'paid');
CREATE TABLE billing.invoices (
    id integer NOT NULL,
    customer_id integer NOT NULL,
    state billing.state NOT NULL DEFAULT 'open',
    CONSTRAINT invoices_pkey PRIMARY KEY (id),
    CONSTRAINT fk_invoices_customers FOREIGN KEY (customer_id) REFERENCES public.customers (id)
);
CREATE INDEX idx_invoices_customer_id_state ON billing.invoices (customer_id, state);
