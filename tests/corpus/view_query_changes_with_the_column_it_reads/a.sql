-- The column a view reads changes type, and the view's query changes with it (a cast keeps
-- the view's column an integer). The server's spelling of the new query must be taken for
-- the new column type: spelled for the old one, the cast is a no-op and vanishes, and the
-- view comes out numeric.
CREATE TABLE items (id int PRIMARY KEY, price int NOT NULL, label text);
CREATE VIEW cheap_items AS SELECT id, price, label FROM items WHERE price < 10;
CREATE VIEW cheap_labels AS SELECT label, price FROM cheap_items;
INSERT INTO items VALUES (1, 5, 'pen'), (2, 50, 'lamp');
