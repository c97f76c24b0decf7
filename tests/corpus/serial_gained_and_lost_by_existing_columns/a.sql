-- Existing columns that become serial (their sequence must exist before the default that
-- calls it) and serial columns that stop being serial (their sequence goes with the default).
CREATE TABLE orders (
    id integer PRIMARY KEY,
    line_no serial NOT NULL,
    batch integer NOT NULL,
    code serial
);
CREATE SEQUENCE IF NOT EXISTS unrelated_seq;
CREATE TABLE "Audit Log" ("Entry" integer NOT NULL, note text);
