CREATE SCHEMA shop;
CREATE TABLE shop.baskets (id serial PRIMARY KEY, cart_no integer);
CREATE SEQUENCE shop."cart numbers" AS integer INCREMENT BY 5 START WITH 100 CACHE 3
    OWNED BY shop.baskets.id;
COMMENT ON SEQUENCE shop."cart numbers" IS 'kept across the move';
SELECT nextval('shop."cart numbers"');
CREATE TABLE orders (id bigserial PRIMARY KEY, label text);
CREATE SEQUENCE legacy_seq START WITH 7 OWNED BY orders.id;
CREATE SEQUENCE order_refs AS smallint;
