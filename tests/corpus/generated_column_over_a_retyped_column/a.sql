-- A generated column reads a column whose type changes: Postgres refuses the retype while it
-- is there, so it is dropped before and added again after (its values are computed again),
-- which puts it at the end of the table. The plan says so; the rollback needs no
-- --allow-destructive for it (nothing in it is data) and puts it at the end again.
CREATE TABLE acct (
    id int PRIMARY KEY,
    balance numeric(10, 2) NOT NULL,
    cents bigint GENERATED ALWAYS AS ((balance * 100)::bigint) STORED,
    note text
);
INSERT INTO acct (id, balance, note) VALUES (1, 12.34, 'a'), (2, 0.5, 'b');
