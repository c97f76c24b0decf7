CREATE TABLE public.names (
    id integer PRIMARY KEY,
    name text COLLATE "C",
    seen timestamptz DEFAULT clock_timestamp(),
    tag text DEFAULT 'x' || 'y'
);
