CREATE TABLE lines (
    price bigint NOT NULL,
    qty integer NOT NULL,
    total bigint GENERATED ALWAYS AS (price * qty) STORED
);
