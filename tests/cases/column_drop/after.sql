CREATE TABLE orders (
    id integer NOT NULL,
    total numeric,
    CONSTRAINT orders_pkey PRIMARY KEY (id)
);
