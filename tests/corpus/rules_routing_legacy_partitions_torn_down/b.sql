-- The legacy partitions and their routing rules torn down; only the parent stays.
CREATE SCHEMA logs;
CREATE TABLE logs.measurement (city_id integer NOT NULL, logdate date NOT NULL, peaktemp integer);
