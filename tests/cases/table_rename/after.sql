CREATE TABLE customers (
    id integer NOT NULL,
    email text,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE customers IS 'People.';
CREATE INDEX idx_users_email ON customers (email);
CREATE TABLE orders (
    id integer NOT NULL,
    user_id integer,
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES customers (id)
);
