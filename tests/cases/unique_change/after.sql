CREATE TABLE seats (
    id integer NOT NULL,
    a integer,
    b integer,
    c integer,
    CONSTRAINT u_cols UNIQUE (b, a, c),
    CONSTRAINT u_defer UNIQUE (a) DEFERRABLE,
    CONSTRAINT u_nnd UNIQUE NULLS NOT DISTINCT (b),
    CONSTRAINT u_comment UNIQUE (c),
    CONSTRAINT u_uncomment UNIQUE (a, b, c)
);
COMMENT ON CONSTRAINT u_comment ON seats IS 'After.';
