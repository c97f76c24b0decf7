CREATE SCHEMA ext;
CREATE EXTENSION hstore SCHEMA ext;
CREATE TABLE public.settings (id integer PRIMARY KEY, attrs ext.hstore);
