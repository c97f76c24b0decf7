CREATE TYPE address AS (street text, city text, country text COLLATE "C", floor integer);
COMMENT ON TYPE address IS 'Where a shop is.';
CREATE TABLE shops (id integer NOT NULL, addr address, CONSTRAINT shops_pkey PRIMARY KEY (id));
