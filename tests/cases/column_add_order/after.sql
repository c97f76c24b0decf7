-- Appended in the order the YAML lists them (docs: "the order is the table's physical column
-- order"); a column listed before an existing one can only go after it.
CREATE TABLE events (
    id integer NOT NULL,
    payload jsonb,
    source text,
    zone text,
    amount numeric,
    happened_at timestamptz
);
