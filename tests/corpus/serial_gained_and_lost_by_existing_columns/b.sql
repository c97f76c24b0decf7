CREATE TABLE orders (
    id integer PRIMARY KEY,
    line_no integer NOT NULL,
    batch serial NOT NULL,
    code text
);
CREATE SEQUENCE IF NOT EXISTS unrelated_seq;
CREATE TABLE "Audit Log" ("Entry" smallserial NOT NULL, note text);
