CREATE TABLE docs (
    id integer NOT NULL,
    email text,
    title text,
    body jsonb,
    deleted_at timestamptz,
    rank integer,
    CONSTRAINT docs_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_docs_email ON docs (email) WHERE deleted_at IS NULL;
CREATE INDEX idx_docs_title_body ON docs (lower(title), (body ->> 'kind'));
COMMENT ON INDEX idx_docs_title_body IS 'Two expressions.';
CREATE INDEX idx_docs_rank ON docs (rank DESC);
CREATE INDEX docs_rank_nulls_first ON docs (rank NULLS FIRST, id DESC);
CREATE INDEX idx_docs_title ON docs (title) INCLUDE (rank);
CREATE INDEX docs_title_hash ON docs USING hash (title);
CREATE INDEX idx_docs_body ON docs USING gin (body);
CREATE INDEX docs_title_prefix ON docs (title text_pattern_ops);
CREATE INDEX docs_title_ucs ON docs (title COLLATE ucs_basic);
