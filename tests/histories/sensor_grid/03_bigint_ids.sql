-- SensorGrid 0.3: the pilot's readings sequence passed 1.5 billion in a stress test. Reading
-- and device ids become bigint (the serial's sequence too), the device identity caches 20
-- values per session for the ingest workers.

CREATE SCHEMA telemetry;
COMMENT ON SCHEMA telemetry IS 'Devices and what they measure.';

CREATE TYPE telemetry.geo_point AS (
    lat double precision,
    lon double precision
);

COMMENT ON TYPE telemetry.geo_point IS 'WGS84 position, degrees.';

CREATE TABLE telemetry.sites (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    time_zone text NOT NULL DEFAULT 'UTC',
    location telemetry.geo_point
);

COMMENT ON TABLE telemetry.sites IS 'A greenhouse, a cold store, a warehouse.';

CREATE TABLE telemetry.devices (
    id bigint GENERATED ALWAYS AS IDENTITY (CACHE 20) PRIMARY KEY,
    serial_number text NOT NULL CONSTRAINT devices_serial_number_key UNIQUE,
    name text NOT NULL,
    installed_at timestamp without time zone NOT NULL DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    site_id integer REFERENCES telemetry.sites (id),
    kind text NOT NULL DEFAULT 'sensor'
        CONSTRAINT devices_kind_check CHECK (kind IN ('sensor', 'gateway', 'actuator')),
    location telemetry.geo_point
);

CREATE INDEX devices_site_id_idx ON telemetry.devices (site_id);

COMMENT ON TABLE telemetry.devices IS 'One physical sensor box.';
COMMENT ON COLUMN telemetry.devices.serial_number IS 'Printed on the case; also the MQTT client id.';
COMMENT ON COLUMN telemetry.devices.location IS 'Where the device is mounted; the site''s position if unknown.';

CREATE TABLE telemetry.readings (
    id bigserial PRIMARY KEY,
    device_id bigint NOT NULL REFERENCES telemetry.devices (id),
    recorded_at timestamp without time zone NOT NULL,
    metric text NOT NULL,
    value double precision NOT NULL
);

CREATE INDEX readings_device_recorded_idx ON telemetry.readings (device_id, recorded_at DESC);

COMMENT ON TABLE telemetry.readings IS 'Raw measurements as the bridge received them.';
COMMENT ON COLUMN telemetry.readings.metric IS 'temperature_c, humidity_pct, co2_ppm, ...';

CREATE VIEW telemetry.device_overview AS
    SELECT d.id,
           d.serial_number,
           d.name,
           d.kind,
           s.name AS site,
           coalesce(d.location, s.location) AS location,
           d.installed_at,
           d.active
    FROM telemetry.devices d
    LEFT JOIN telemetry.sites s ON s.id = d.site_id;

COMMENT ON VIEW telemetry.device_overview IS 'Dashboard device list.';
