-- A column of the partition key changes type: Postgres refuses it in place ("cannot alter
-- column … because it is part of the partition key"), so the partitioned table and its
-- partitions are rebuilt with their rows carried over.
CREATE TABLE events (
    id bigint NOT NULL,
    "Day" int NOT NULL,
    payload text
) PARTITION BY RANGE ("Day");
CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (100);
CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (100) TO (200);
CREATE INDEX events_day_idx ON events ("Day");
INSERT INTO events VALUES (1, 5, 'a'), (2, 150, 'b');
