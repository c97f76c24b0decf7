CREATE TABLE a (
    id integer NOT NULL,
    v text,
    CONSTRAINT a_pkey PRIMARY KEY (id)
);
CREATE TABLE b (
    x integer NOT NULL,
    y integer NOT NULL,
    CONSTRAINT b_yx_pk PRIMARY KEY (y, x)
);
COMMENT ON CONSTRAINT b_yx_pk ON b IS 'Composite key.';
