CREATE TABLE parents (
    id integer NOT NULL,
    k1 integer NOT NULL,
    k2 integer NOT NULL,
    CONSTRAINT parents_pkey PRIMARY KEY (id),
    CONSTRAINT parents_k1_k2_key UNIQUE (k1, k2)
);
CREATE TABLE kids (
    id integer NOT NULL,
    p1 integer,
    p2 integer,
    p3 integer,
    k1 integer,
    k2 integer,
    CONSTRAINT kids_pkey PRIMARY KEY (id),
    CONSTRAINT kids_p1_fk FOREIGN KEY (p1) REFERENCES parents (id)
        ON UPDATE CASCADE ON DELETE SET NULL,
    CONSTRAINT kids_p2_fk FOREIGN KEY (p2) REFERENCES parents (id) ON DELETE RESTRICT,
    CONSTRAINT kids_p3_fk FOREIGN KEY (p3) REFERENCES parents (id) DEFERRABLE,
    CONSTRAINT kids_k_fk FOREIGN KEY (k1, k2) REFERENCES parents (k1, k2) MATCH FULL
);
COMMENT ON CONSTRAINT kids_p2_fk ON kids IS 'New.';
