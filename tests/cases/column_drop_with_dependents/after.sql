CREATE TABLE items (
    id integer NOT NULL,
    name text
);
