-- A view calls an SQL-standard function that reads a table, all three new: the function's
-- body can only be read (and its dependencies known) once the table exists, so the planner
-- makes the new table and view too in its rolled-back probe; built from empty in order.
CREATE SCHEMA stock;

CREATE TABLE stock.movement (
    sku text NOT NULL,
    qty integer NOT NULL
);

CREATE FUNCTION stock.on_hand(item text) RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (SELECT coalesce(sum(qty), 0) FROM stock.movement WHERE sku = item);

CREATE TABLE stock.article (sku text PRIMARY KEY, title text NOT NULL);

CREATE VIEW stock.shelf AS
    SELECT a.sku, a.title, stock.on_hand(a.sku) AS on_hand FROM stock.article AS a;

CREATE FUNCTION stock.empty_shelves() RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (SELECT count(*) FROM stock.shelf WHERE on_hand = 0);
