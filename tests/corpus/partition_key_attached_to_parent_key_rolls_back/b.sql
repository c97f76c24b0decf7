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

ALTER TABLE ledger_us ADD CONSTRAINT ledger_us_idx UNIQUE USING INDEX ledger_us_idx DEFERRABLE;
ALTER INDEX ledger_region_entry_key ATTACH PARTITION ledger_us_idx;
