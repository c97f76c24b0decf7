CREATE TABLE orders (
    id integer NOT NULL,
    user_id integer,
    user_email text,
    CONSTRAINT orders_pkey PRIMARY KEY (id)
);
