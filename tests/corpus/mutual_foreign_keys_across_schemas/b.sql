CREATE SCHEMA billing;
CREATE SCHEMA crm;
CREATE TABLE crm.customers (id integer PRIMARY KEY, default_invoice integer);
CREATE TABLE billing.invoices (id integer PRIMARY KEY, customer_id integer NOT NULL);
ALTER TABLE crm.customers ADD CONSTRAINT fk_customers_invoices
    FOREIGN KEY (default_invoice) REFERENCES billing.invoices (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE billing.invoices ADD CONSTRAINT fk_invoices_customers
    FOREIGN KEY (customer_id) REFERENCES crm.customers (id);
