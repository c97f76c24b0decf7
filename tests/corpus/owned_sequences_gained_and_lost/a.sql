-- Free-standing sequences gaining and losing an owning column whose default does not call
-- them: a sequence given to a serial column of a table that stays, a new sequence owned by
-- a new table's serial column and called by another column's default, a new one owned by a
-- column that exists; an owned one dropped while its table stays, and one dropped with its
-- table.
CREATE TABLE invoices (id serial PRIMARY KEY, no integer);
CREATE SEQUENCE invoice_nos START WITH 1000;
CREATE SEQUENCE spare OWNED BY invoices.id;
CREATE TABLE receipts (id serial PRIMARY KEY, n bigint);
CREATE SEQUENCE receipt_nos INCREMENT BY 2 OWNED BY receipts.n;
