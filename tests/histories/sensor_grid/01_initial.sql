-- SensorGrid: greenhouse and cold-store telemetry. Pilot release: devices report readings
-- (one row per device, metric and moment) over MQTT; a bridge writes them here.

CREATE SCHEMA telemetry;
COMMENT ON SCHEMA telemetry IS 'Devices and what they measure.';

CREATE TABLE telemetry.devices (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial_number text NOT NULL CONSTRAINT devices_serial_number_key UNIQUE,
    name text NOT NULL,
    installed_at timestamp without time zone NOT NULL DEFAULT now(),
    active boolean NOT NULL DEFAULT true
);

COMMENT ON TABLE telemetry.devices IS 'One physical sensor box.';
COMMENT ON COLUMN telemetry.devices.serial_number IS 'Printed on the case; also the MQTT client id.';

CREATE TABLE telemetry.readings (
    id serial PRIMARY KEY,
    device_id integer NOT NULL REFERENCES telemetry.devices (id),
    recorded_at timestamp without time zone NOT NULL,
    metric text NOT NULL,
    value double precision NOT NULL
);

CREATE INDEX readings_device_recorded_idx ON telemetry.readings (device_id, recorded_at DESC);

COMMENT ON TABLE telemetry.readings IS 'Raw measurements as the bridge received them.';
COMMENT ON COLUMN telemetry.readings.metric IS 'temperature_c, humidity_pct, co2_ppm, ...';
