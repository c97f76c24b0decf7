-- The check gets validated; a new check and a new foreign key arrive NOT VALID (the online
-- way to add them to a big table: enforced at once for new rows, validated later).
CREATE TABLE public.readings (id integer PRIMARY KEY, value numeric);
ALTER TABLE public.readings ADD CONSTRAINT ck_readings_value CHECK (value >= 0);
ALTER TABLE public.readings ADD CONSTRAINT ck_readings_id CHECK (id > 0) NOT VALID;
CREATE TABLE public.sensors (id integer PRIMARY KEY);
CREATE TABLE public.samples (id integer PRIMARY KEY, sensor_id integer);
ALTER TABLE public.samples ADD CONSTRAINT fk_samples_sensors
    FOREIGN KEY (sensor_id) REFERENCES public.sensors (id) NOT VALID;
CREATE TABLE public.fresh (id integer PRIMARY KEY, CONSTRAINT ck_fresh_id CHECK (id > 0));
ALTER TABLE public.fresh ADD CONSTRAINT ck_fresh_late CHECK (id < 1000) NOT VALID;
