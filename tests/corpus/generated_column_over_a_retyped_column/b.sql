CREATE TABLE acct (
    id int PRIMARY KEY,
    balance numeric(14, 4) NOT NULL,
    note text,
    cents bigint GENERATED ALWAYS AS ((balance * 100)::bigint) STORED
);
