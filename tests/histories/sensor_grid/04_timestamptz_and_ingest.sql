-- SensorGrid 0.4: the first site outside UTC. Moments become timestamptz (readings and
-- installation dates, under the overview view), a latest-reading view for the live map,
-- and the bridge inserts through telemetry.record_reading() instead of raw INSERTs.

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
    installed_at timestamp with time zone NOT NULL DEFAULT now(),
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
    recorded_at timestamp with time zone NOT NULL,
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

CREATE VIEW telemetry.latest_reading AS
    SELECT DISTINCT ON (r.device_id, r.metric)
           r.device_id,
           r.metric,
           r.value,
           r.recorded_at,
           now() - r.recorded_at AS age
    FROM telemetry.readings r
    ORDER BY r.device_id, r.metric, r.recorded_at DESC;

COMMENT ON VIEW telemetry.latest_reading IS 'Newest value per device and metric (live map).';

CREATE FUNCTION telemetry.record_reading(
    p_serial_number text,
    p_metric text,
    p_recorded_at timestamp with time zone,
    p_value double precision
) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    v_device_id bigint;
    v_id bigint;
BEGIN
    SELECT id INTO v_device_id FROM telemetry.devices WHERE serial_number = p_serial_number;
    IF v_device_id IS NULL THEN
        RAISE EXCEPTION 'unknown device %', p_serial_number USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO telemetry.readings (device_id, recorded_at, metric, value)
    VALUES (v_device_id, p_recorded_at, p_metric, p_value)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION telemetry.record_reading(text, text, timestamp with time zone, double precision)
    IS 'Called by the MQTT bridge once per message.';
