CREATE SCHEMA metrics;

CREATE FUNCTION metrics.bucket(v integer) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN v / 10; END $$;

CREATE FUNCTION metrics.bucket_label(v integer) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN 'b' || metrics.bucket(v)::text;

CREATE TABLE metrics.sample (
    id integer PRIMARY KEY,
    value integer NOT NULL,
    tier integer DEFAULT metrics.bucket(42),
    CONSTRAINT sample_bucket_small CHECK (metrics.bucket(value) < 1000)
);

CREATE INDEX sample_by_bucket ON metrics.sample (metrics.bucket(value));

CREATE VIEW metrics.bucketed AS
    SELECT id, metrics.bucket(value) AS bucket FROM metrics.sample;

CREATE VIEW metrics.labelled AS
    SELECT id, metrics.bucket_label(value) AS label FROM metrics.sample;

CREATE MATERIALIZED VIEW metrics.bucket_counts AS
    SELECT metrics.bucket(value) AS bucket, count(*) AS n FROM metrics.sample GROUP BY 1;

CREATE INDEX bucket_counts_bucket ON metrics.bucket_counts (bucket);
