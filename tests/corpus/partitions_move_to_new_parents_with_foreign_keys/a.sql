-- Both parents are replaced by new ones and the partitions move over. A partition detached
-- from its parent keeps copies of the parent's foreign keys; they must not outlive the old
-- parents (they hold the old referenced table's index).
CREATE TABLE accounts (
    region text NOT NULL,
    id bigint NOT NULL,
    CONSTRAINT accounts_region_id_key UNIQUE (region, id)
) PARTITION BY LIST (region);
CREATE TABLE accounts_eu PARTITION OF accounts FOR VALUES IN ('eu');
CREATE TABLE transfers (
    region text NOT NULL,
    account_id bigint NOT NULL,
    amount numeric NOT NULL,
    CONSTRAINT transfers_account_fkey FOREIGN KEY (region, account_id)
        REFERENCES accounts (region, id)
) PARTITION BY LIST (region);
CREATE TABLE transfers_eu PARTITION OF transfers FOR VALUES IN ('eu');
INSERT INTO accounts VALUES ('eu', 1);
INSERT INTO transfers VALUES ('eu', 1, 9.5);
