DO $$ BEGIN CREATE ROLE rc_dp_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE rc_dp_writer NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA app;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON TYPES TO rc_dp_writer;
CREATE TYPE app.level AS ENUM ('low', 'high');
REVOKE USAGE ON TYPE app.level FROM PUBLIC;
CREATE TABLE app.readings (id integer PRIMARY KEY, level app.level);
