CREATE TABLE shipments (
    region text NOT NULL,
    qty int NOT NULL
) PARTITION BY LIST (region);
CREATE TABLE shipments_eu PARTITION OF shipments FOR VALUES IN ('eu');
CREATE TABLE shipments_us PARTITION OF shipments FOR VALUES IN ('us');
ALTER TABLE shipments ADD CONSTRAINT shipments_qty_check CHECK (qty > 0) NOT VALID;
CREATE TABLE shipments_apac PARTITION OF shipments FOR VALUES IN ('apac');
ALTER TABLE shipments_eu VALIDATE CONSTRAINT shipments_qty_check;

CREATE TABLE notes (body text);
CREATE TABLE notes_2025 () INHERITS (notes);
ALTER TABLE notes ADD CONSTRAINT notes_body_check CHECK (length(body) < 1000) NOT VALID;
CREATE TABLE notes_2026 () INHERITS (notes);
