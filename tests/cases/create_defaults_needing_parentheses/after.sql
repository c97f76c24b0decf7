CREATE DOMAIN flag AS boolean DEFAULT (NOT false);
CREATE DOMAIN label AS text DEFAULT ('x' COLLATE "C");
CREATE TABLE settings (
    id integer NOT NULL,
    enabled boolean DEFAULT (NOT false),
    anded boolean DEFAULT (true AND false),
    inside boolean DEFAULT (1 BETWEEN 0 AND 2),
    listed boolean DEFAULT (1 IN (1, 2)),
    unset boolean DEFAULT (null IS NULL),
    liked boolean DEFAULT ('a' LIKE 'b'),
    at_utc timestamp DEFAULT (now() AT TIME ZONE 'utc'),
    code text DEFAULT ('x' COLLATE "C"),
    f flag,
    l label,
    CONSTRAINT settings_pkey PRIMARY KEY (id)
);
