DO $$ BEGIN CREATE ROLE rc_public_schema_writer NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE public.notes (id integer PRIMARY KEY);
