-- The condition changed, a rule dropped with the table it writes to, a comment, one disabled,
-- one with several commands added, a table with a rule dropped.
CREATE SCHEMA app;
CREATE TABLE app.orders (id integer PRIMARY KEY, status text, total numeric);
CREATE TABLE app.order_log (id integer, status text, at timestamptz DEFAULT now());
CREATE RULE orders_log AS ON UPDATE TO app.orders
    WHERE old.status IS DISTINCT FROM new.status
    DO ALSO INSERT INTO app.order_log (id, status) VALUES (new.id, new.status);
CREATE RULE orders_no_delete AS ON DELETE TO app.orders
    WHERE old.status IN ('open', 'paid') DO INSTEAD NOTHING;
CREATE RULE orders_comment AS ON INSERT TO app.orders WHERE new.total < 0 DO INSTEAD NOTHING;
COMMENT ON RULE orders_comment ON app.orders IS 'negative totals are dropped';
ALTER TABLE app.orders DISABLE RULE orders_comment;
CREATE RULE orders_two AS ON UPDATE TO app.orders DO ALSO (
    INSERT INTO app.order_log (id, status) VALUES (old.id, 'was ' || old.status);
    NOTIFY orders_changed;
);
