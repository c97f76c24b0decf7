-- Comments on the sequences serial columns own: changed, added, removed, on a sequence a
-- column gains, on a new table's, and on one that changes owner.
CREATE TABLE orders (id serial PRIMARY KEY, ref serial, note serial);
COMMENT ON SEQUENCE orders_id_seq IS 'order numbers';
COMMENT ON SEQUENCE orders_note_seq IS 'to be removed';
CREATE TABLE plain (n integer NOT NULL);
CREATE TABLE old_home (k bigint);
CREATE SEQUENCE "wandering seq" OWNED BY old_home.k;
COMMENT ON SEQUENCE "wandering seq" IS 'moves';
