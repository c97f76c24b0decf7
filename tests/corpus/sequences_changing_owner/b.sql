CREATE SCHEMA billing;
CREATE TABLE billing.invoices (no bigint, total numeric);
CREATE SEQUENCE billing."invoice numbers" AS bigint INCREMENT BY 3 MINVALUE 6 MAXVALUE 101
    START WITH 11 CACHE 6 OWNED BY billing.invoices.no;
CREATE TABLE tickets (id bigint NOT NULL, title text);
CREATE SEQUENCE ticket_ids;
ALTER TABLE tickets ALTER COLUMN id SET DEFAULT nextval('ticket_ids');
COMMENT ON SEQUENCE ticket_ids IS 'no longer the column''s';
CREATE SEQUENCE "Free Counter" AS smallint START WITH 7;
CREATE TABLE counted (n smallint NOT NULL DEFAULT nextval('"Free Counter"'), label text);
ALTER SEQUENCE "Free Counter" OWNED BY counted.n;
