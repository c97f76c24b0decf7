CREATE FUNCTION valid_code(c text, strict_mode boolean DEFAULT false) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT c ~ '^[A-Z]{3}$' OR (NOT strict_mode AND c ~ '^[a-z]{3}$') $$;
CREATE TABLE items (
    id int PRIMARY KEY,
    code text CONSTRAINT items_code_check CHECK (valid_code(code))
);
CREATE VIEW valid_items AS SELECT id, code FROM items WHERE valid_code(code);
CREATE INDEX items_valid_idx ON items (id) WHERE valid_code(code);
