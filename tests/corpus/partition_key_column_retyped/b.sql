CREATE TABLE events (
    id bigint NOT NULL,
    "Day" bigint NOT NULL,
    payload text
) PARTITION BY RANGE ("Day");
CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (100);
CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (100) TO (200);
CREATE INDEX events_day_idx ON events ("Day");
