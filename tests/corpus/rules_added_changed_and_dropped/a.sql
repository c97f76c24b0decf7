-- Rules of a table: one kept, one whose condition changes, one dropped, one commented, one
-- that stops firing, one on a table the plan drops.
CREATE SCHEMA app;
CREATE TABLE app.orders (id integer PRIMARY KEY, status text, total numeric);
CREATE TABLE app.order_log (id integer, status text, at timestamptz DEFAULT now());
CREATE TABLE app.old_archive (id integer);
CREATE TABLE app.scratch (id integer);
CREATE RULE orders_log AS ON UPDATE TO app.orders
    WHERE old.status IS DISTINCT FROM new.status
    DO ALSO INSERT INTO app.order_log (id, status) VALUES (new.id, new.status);
CREATE RULE orders_no_delete AS ON DELETE TO app.orders WHERE old.status = 'open' DO INSTEAD NOTHING;
CREATE RULE orders_archive AS ON DELETE TO app.orders DO ALSO INSERT INTO app.old_archive VALUES (old.id);
CREATE RULE orders_comment AS ON INSERT TO app.orders WHERE new.total < 0 DO INSTEAD NOTHING;
CREATE RULE scratch_nothing AS ON INSERT TO app.scratch DO INSTEAD NOTHING;
