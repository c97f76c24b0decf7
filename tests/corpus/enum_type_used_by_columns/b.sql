CREATE SCHEMA shop;
CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE shop.orders (
    id integer PRIMARY KEY,
    status shop.order_status NOT NULL DEFAULT 'new',
    history shop.order_status[]
);
