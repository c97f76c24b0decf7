CREATE TABLE lines (
    unit_price integer NOT NULL,
    qty integer NOT NULL,
    total integer GENERATED ALWAYS AS (unit_price * qty) STORED
);
