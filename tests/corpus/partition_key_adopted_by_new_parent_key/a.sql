-- The parent has a plain unique index; each partition has a primary key of its own attached
-- to it. The parent gets a primary key instead: its index goes, and the partitions' keys are
-- taken over by the new key. The way back gives each partition its own primary key again.
CREATE TABLE readings (
    sensor int NOT NULL,
    taken_at timestamptz NOT NULL,
    value double precision
) PARTITION BY RANGE (taken_at);
CREATE TABLE readings_2025 PARTITION OF readings
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE readings_2026 PARTITION OF readings
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE UNIQUE INDEX readings_key ON readings (sensor, taken_at);
ALTER TABLE readings_2025 ADD CONSTRAINT readings_2025_pkey
    PRIMARY KEY USING INDEX readings_2025_sensor_taken_at_idx;
ALTER TABLE readings_2026 ADD CONSTRAINT readings_2026_pkey
    PRIMARY KEY USING INDEX readings_2026_sensor_taken_at_idx;
INSERT INTO readings VALUES (1, '2025-06-01', 1.5), (1, '2026-06-01', 2.5);
