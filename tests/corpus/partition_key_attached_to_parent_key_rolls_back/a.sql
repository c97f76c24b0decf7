-- The parent's unique key exists ON ONLY (not yet valid); one partition's key is attached,
-- the other partition has a plain unique index of its own. Postgres cannot detach an index
-- from its parent's, so the way back rebuilds the parent's key and its partitions' keys.
CREATE TABLE ledger (
    region text NOT NULL,
    entry_id bigint NOT NULL,
    amount numeric(12, 2)
) PARTITION BY LIST (region);
CREATE TABLE ledger_eu PARTITION OF ledger FOR VALUES IN ('eu');
CREATE TABLE ledger_us PARTITION OF ledger FOR VALUES IN ('us');
ALTER TABLE ONLY ledger ADD CONSTRAINT ledger_region_entry_key UNIQUE (region, entry_id)
    DEFERRABLE;
COMMENT ON CONSTRAINT ledger_region_entry_key ON ledger IS 'one entry per region';
ALTER TABLE ONLY ledger_eu ADD CONSTRAINT ledger_eu_key UNIQUE (region, entry_id) DEFERRABLE;
COMMENT ON CONSTRAINT ledger_eu_key ON ledger_eu IS 'eu entries';
ALTER INDEX ledger_region_entry_key ATTACH PARTITION ledger_eu_key;
CREATE UNIQUE INDEX ledger_us_idx ON ledger_us (region, entry_id);

INSERT INTO ledger VALUES ('eu', 1, 10), ('us', 1, 20);
