-- Sequences a column owns while its default calls another one (or none): a sequence that
-- moves to a column of another table as its old table is dropped, one that moves to a serial
-- column of its own table as its old column is dropped, one that loses its owner. Each keeps
-- its options, comment and current value.
CREATE SCHEMA shop;
CREATE TABLE shop.carts (id serial PRIMARY KEY, note text);
CREATE SEQUENCE shop."cart numbers" AS integer INCREMENT BY 5 START WITH 100 CACHE 3
    OWNED BY shop.carts.id;
COMMENT ON SEQUENCE shop."cart numbers" IS 'kept across the move';
SELECT nextval('shop."cart numbers"');
CREATE TABLE orders (id bigserial PRIMARY KEY, label text, legacy_no integer);
CREATE SEQUENCE legacy_seq START WITH 7 OWNED BY orders.legacy_no;
CREATE SEQUENCE order_refs AS smallint OWNED BY orders.label;
