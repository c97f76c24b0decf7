-- A function gains an argument with a default: its signature changes, so it is dropped and
-- created, and the check, view and partial index calling it with unchanged text are made
-- again around it (they bind to the new function; Postgres refused the drop under them).
CREATE FUNCTION valid_code(c text) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT c ~ '^[A-Z]{3}$' $$;
CREATE TABLE items (
    id int PRIMARY KEY,
    code text CONSTRAINT items_code_check CHECK (valid_code(code))
);
CREATE VIEW valid_items AS SELECT id, code FROM items WHERE valid_code(code);
CREATE INDEX items_valid_idx ON items (id) WHERE valid_code(code);
INSERT INTO items VALUES (1, 'ABC');
