-- Sequences that change hands keep existing (and their current value): a column's sequence
-- moves to a column of another table (whose old table is dropped) with new options and type,
-- another becomes free-standing, a free-standing one comes to be owned by a new column.
CREATE SCHEMA billing;
CREATE TABLE billing.old_invoices (no integer, note text);
CREATE SEQUENCE billing."invoice numbers" AS integer INCREMENT BY 2 MINVALUE 5 MAXVALUE 100
    START WITH 10 CACHE 5 CYCLE OWNED BY billing.old_invoices.no;
CREATE TABLE tickets (id bigint NOT NULL, title text);
CREATE SEQUENCE ticket_ids OWNED BY tickets.id;
ALTER TABLE tickets ALTER COLUMN id SET DEFAULT nextval('ticket_ids');
CREATE SEQUENCE "Free Counter" AS smallint START WITH 7;
COMMENT ON SEQUENCE "Free Counter" IS 'counts';
