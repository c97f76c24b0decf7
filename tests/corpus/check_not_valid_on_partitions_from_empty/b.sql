CREATE TABLE readings (
    sensor int NOT NULL,
    value numeric
) PARTITION BY RANGE (sensor);
CREATE TABLE readings_low PARTITION OF readings FOR VALUES FROM (0) TO (100)
    PARTITION BY RANGE (sensor);
CREATE TABLE readings_low_a PARTITION OF readings_low FOR VALUES FROM (0) TO (50);
ALTER TABLE readings ADD CONSTRAINT readings_value_check CHECK (value >= 0) NOT VALID;
CREATE TABLE readings_high PARTITION OF readings FOR VALUES FROM (100) TO (200);
CREATE TABLE readings_low_b PARTITION OF readings_low FOR VALUES FROM (50) TO (100);
