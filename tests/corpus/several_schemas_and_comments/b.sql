CREATE SCHEMA app;
CREATE SCHEMA audit;
COMMENT ON SCHEMA app IS 'Application tables.';
CREATE TABLE app.accounts (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE audit.events (
    id bigint PRIMARY KEY,
    account_id integer REFERENCES app.accounts (id),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb
);
COMMENT ON COLUMN audit.events.payload IS 'The event, as received.';
