CREATE TABLE lines (
    id integer NOT NULL,
    total integer,
    double_total integer GENERATED ALWAYS AS (total * 2) STORED
);
