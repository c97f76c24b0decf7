CREATE TABLE docs (
    id integer NOT NULL,
    a text,
    b integer,
    c integer
);
CREATE INDEX i_cols ON docs (a, b);
CREATE UNIQUE INDEX i_unique ON docs (b);
CREATE INDEX i_where ON docs (a) WHERE b > 1;
CREATE INDEX i_method ON docs USING hash (a);
CREATE INDEX i_include ON docs (a) INCLUDE (b, c);
CREATE INDEX i_order ON docs (b DESC);
CREATE INDEX i_expr ON docs (upper(a));
CREATE INDEX i_opclass ON docs (a text_pattern_ops);
CREATE UNIQUE INDEX i_nnd ON docs (b, c) NULLS NOT DISTINCT;
