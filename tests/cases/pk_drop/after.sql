CREATE TABLE events (
    id integer,
    at timestamptz NOT NULL
);
