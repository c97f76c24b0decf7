CREATE TABLE tenants (id integer NOT NULL, CONSTRAINT tenants_pkey PRIMARY KEY (id));
CREATE TABLE measurements (
    tenant_id integer NOT NULL,
    at date NOT NULL,
    v numeric,
    CONSTRAINT measurements_pkey PRIMARY KEY (tenant_id, at),
    CONSTRAINT measurements_v_check CHECK (v >= 0)
) PARTITION BY RANGE (at);
COMMENT ON TABLE measurements IS 'Readings, one partition per year.';
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
COMMENT ON TABLE measurements_2026 IS 'This year.';
CREATE TABLE measurements_default PARTITION OF measurements DEFAULT;
CREATE INDEX idx_measurements_v ON measurements (v);
ALTER TABLE measurements ADD CONSTRAINT fk_measurements_tenants FOREIGN KEY (tenant_id) REFERENCES tenants (id);
CREATE TABLE events (kind text NOT NULL, id bigint NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE events_click PARTITION OF events FOR VALUES IN ('click', 'tap');
CREATE TABLE sessions (id bigint NOT NULL) PARTITION BY HASH (id);
CREATE TABLE sessions_0 PARTITION OF sessions FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE sessions_1 PARTITION OF sessions FOR VALUES WITH (MODULUS 2, REMAINDER 1);
