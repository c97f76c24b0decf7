DO $$ BEGIN CREATE ROLE rc_dp_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE rc_dp_writer NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA app;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO rc_dp_reader;
CREATE TYPE app.level AS ENUM ('high', 'low');
REVOKE USAGE ON TYPE app.level FROM PUBLIC;
REVOKE USAGE ON TYPE app.level FROM rc_dp_reader;
GRANT USAGE ON TYPE app.level TO rc_dp_writer;
CREATE TABLE app.readings (id integer PRIMARY KEY, level app.level);
