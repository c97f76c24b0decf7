CREATE TABLE lines (
    price integer NOT NULL,
    qty integer NOT NULL,
    total integer
);
