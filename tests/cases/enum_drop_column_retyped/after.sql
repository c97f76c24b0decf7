CREATE TABLE cars (
    id integer NOT NULL,
    paint text NOT NULL DEFAULT 'red',
    trims text[]
);
