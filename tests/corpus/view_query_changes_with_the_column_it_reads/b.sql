CREATE TABLE items (id int PRIMARY KEY, price numeric(10, 2) NOT NULL, label varchar(40));
CREATE VIEW cheap_items AS
    SELECT id, round(price)::int AS price, label::text AS label FROM items WHERE price < 10;
CREATE VIEW cheap_labels AS SELECT label, price FROM cheap_items;
