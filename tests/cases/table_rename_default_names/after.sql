CREATE TABLE customers (
    id integer NOT NULL,
    email text,
    CONSTRAINT customers_pkey PRIMARY KEY (id),
    CONSTRAINT customers_email_key UNIQUE (email)
);
CREATE INDEX idx_customers_email ON customers (lower(email));
CREATE TABLE orders (
    id integer NOT NULL,
    user_id integer,
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT fk_orders_customers FOREIGN KEY (user_id) REFERENCES customers (id)
);
