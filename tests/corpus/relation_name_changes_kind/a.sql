CREATE SCHEMA shop;
CREATE TABLE shop.orders (id integer PRIMARY KEY, total numeric(10,2));
CREATE VIEW shop.order_totals AS SELECT id, total FROM shop.orders;
CREATE MATERIALIZED VIEW shop.daily AS SELECT count(*) AS n FROM shop.orders;
