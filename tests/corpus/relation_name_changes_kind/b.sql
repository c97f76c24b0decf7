CREATE SCHEMA shop;
CREATE TABLE shop.orders_v2 (id integer PRIMARY KEY, total numeric(10,2), currency text);
CREATE VIEW shop.orders AS SELECT id, total FROM shop.orders_v2;
CREATE MATERIALIZED VIEW shop.order_totals AS SELECT id, total FROM shop.orders_v2;
CREATE VIEW shop.daily AS SELECT count(*) AS n FROM shop.orders_v2;
