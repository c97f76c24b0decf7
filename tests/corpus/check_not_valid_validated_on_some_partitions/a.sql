-- A NOT VALID check on a partitioned table is validated on the partitions made after it (and
-- on any validated on their own), not on those that were there before; the same for a legacy
-- inheritance parent and its children. The plan validates it on one more partition; the way
-- back makes it NOT VALID there again and keeps it validated where it was.
CREATE TABLE shipments (
    region text NOT NULL,
    qty int NOT NULL
) PARTITION BY LIST (region);
CREATE TABLE shipments_eu PARTITION OF shipments FOR VALUES IN ('eu');
CREATE TABLE shipments_us PARTITION OF shipments FOR VALUES IN ('us');
ALTER TABLE shipments ADD CONSTRAINT shipments_qty_check CHECK (qty > 0) NOT VALID;
CREATE TABLE shipments_apac PARTITION OF shipments FOR VALUES IN ('apac');
INSERT INTO shipments VALUES ('eu', 1), ('us', 2), ('apac', 3);

CREATE TABLE notes (body text);
CREATE TABLE notes_2025 () INHERITS (notes);
ALTER TABLE notes ADD CONSTRAINT notes_body_check CHECK (length(body) < 500) NOT VALID;
CREATE TABLE notes_2026 () INHERITS (notes);
