CREATE TABLE invoices (id serial PRIMARY KEY, no integer);
CREATE SEQUENCE invoice_nos START WITH 1000 OWNED BY invoices.id;
CREATE SEQUENCE "Free Counter" AS integer OWNED BY invoices.no;
CREATE SEQUENCE note_nos START WITH 50;
CREATE TABLE notes (id bigserial PRIMARY KEY, n bigint DEFAULT nextval('note_nos'));
ALTER SEQUENCE note_nos OWNED BY notes.id;
