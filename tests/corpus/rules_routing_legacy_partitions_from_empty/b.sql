-- Partitioning as it was done before PARTITION BY: children inheriting from the parent, each
-- with its CHECK, and routing rules on the parent sending each row to its child.
CREATE SCHEMA logs;
CREATE TABLE logs.measurement (city_id integer NOT NULL, logdate date NOT NULL, peaktemp integer);
CREATE TABLE logs.measurement_y2023 (
    CHECK (logdate >= DATE '2023-01-01' AND logdate < DATE '2024-01-01')
) INHERITS (logs.measurement);
CREATE TABLE logs.measurement_y2024 (
    CHECK (logdate >= DATE '2024-01-01' AND logdate < DATE '2025-01-01')
) INHERITS (logs.measurement);
CREATE INDEX measurement_y2024_logdate ON logs.measurement_y2024 (logdate);
CREATE RULE measurement_insert_y2023 AS
ON INSERT TO logs.measurement WHERE
    (logdate >= DATE '2023-01-01' AND logdate < DATE '2024-01-01')
DO INSTEAD
    INSERT INTO logs.measurement_y2023 VALUES (NEW.*);
CREATE RULE measurement_insert_y2024 AS
ON INSERT TO logs.measurement WHERE
    (logdate >= DATE '2024-01-01' AND logdate < DATE '2025-01-01')
DO INSTEAD
    INSERT INTO logs.measurement_y2024 VALUES (NEW.*);
COMMENT ON RULE measurement_insert_y2024 ON logs.measurement IS 'this year';
