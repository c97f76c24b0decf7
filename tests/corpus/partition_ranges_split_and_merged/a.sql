-- One range partition is split in two (its bound shrinks before the new one is made), two
-- others are merged (the one dropped goes before the other's bound grows), and a hash
-- partitioned table goes from modulus 2 to 4: the bounds never overlap on the way, either way.
CREATE TABLE sales (sold_on date NOT NULL, amount int) PARTITION BY RANGE (sold_on);
CREATE TABLE sales_q1 PARTITION OF sales FOR VALUES FROM ('2026-01-01') TO ('2026-04-01');
CREATE TABLE sales_apr PARTITION OF sales FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');
CREATE TABLE sales_may PARTITION OF sales FOR VALUES FROM ('2026-05-01') TO ('2026-06-01');
INSERT INTO sales VALUES ('2026-01-15', 1), ('2026-04-15', 2);
CREATE TABLE buckets (id int NOT NULL) PARTITION BY HASH (id);
CREATE TABLE buckets_0 PARTITION OF buckets FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE buckets_1 PARTITION OF buckets FOR VALUES WITH (MODULUS 2, REMAINDER 1);
