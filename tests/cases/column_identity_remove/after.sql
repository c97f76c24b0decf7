CREATE TABLE counters (
    a integer NOT NULL,
    b bigint DEFAULT 7
);
