CREATE TABLE public.readings (id integer PRIMARY KEY, value numeric);
ALTER TABLE public.readings ADD CONSTRAINT ck_readings_value CHECK (value >= 0) NOT VALID;
CREATE TABLE public.sensors (id integer PRIMARY KEY);
CREATE TABLE public.samples (id integer PRIMARY KEY, sensor_id integer);
