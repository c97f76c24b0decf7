CREATE TABLE products (
    id integer NOT NULL,
    code text NOT NULL,
    title text,
    CONSTRAINT products_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX products_code_uq ON products (code) INCLUDE (title);
CREATE TABLE stock (
    code text,
    CONSTRAINT fk_stock_products FOREIGN KEY (code) REFERENCES products (code)
);
