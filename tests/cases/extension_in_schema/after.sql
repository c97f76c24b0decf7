CREATE SCHEMA ext;
COMMENT ON SCHEMA ext IS 'Extensions live here.';
CREATE EXTENSION citext SCHEMA ext;
CREATE TABLE users (
    id integer NOT NULL,
    email ext.citext
);
