CREATE TABLE accounts_v2 (
    region text NOT NULL,
    id bigint NOT NULL,
    CONSTRAINT accounts_v2_region_id_key UNIQUE (region, id)
) PARTITION BY LIST (region);
CREATE TABLE accounts_eu PARTITION OF accounts_v2 FOR VALUES IN ('eu');
CREATE TABLE transfers_v2 (
    region text NOT NULL,
    account_id bigint NOT NULL,
    amount numeric NOT NULL,
    CONSTRAINT transfers_v2_account_fkey FOREIGN KEY (region, account_id)
        REFERENCES accounts_v2 (region, id)
) PARTITION BY LIST (region);
CREATE TABLE transfers_eu PARTITION OF transfers_v2 FOR VALUES IN ('eu');
