CREATE TABLE "Ledger Entries" (
    id bigint PRIMARY KEY,
    revision integer NOT NULL DEFAULT 0
);
