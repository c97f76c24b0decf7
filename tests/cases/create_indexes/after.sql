CREATE TABLE docs (
    id integer NOT NULL,
    email text,
    title text,
    body jsonb,
    tags text[],
    deleted_at timestamptz,
    rank integer,
    code text,
    CONSTRAINT docs_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX docs_email_uq ON docs (email);
CREATE INDEX docs_lower_email_idx ON docs (lower(email));
COMMENT ON INDEX docs_lower_email_idx IS 'Case-insensitive lookups.';
CREATE INDEX docs_live_title_idx ON docs (title) WHERE deleted_at IS NULL;
CREATE INDEX docs_rank_idx ON docs (rank DESC NULLS FIRST, title NULLS FIRST, deleted_at DESC NULLS LAST);
CREATE INDEX docs_title_incl ON docs (title) INCLUDE (rank, code);
CREATE INDEX idx_docs_email ON docs USING hash (email);
CREATE INDEX idx_docs_body ON docs USING gin (body);
CREATE INDEX docs_tags_gin ON docs USING gin (tags);
CREATE INDEX docs_title_pattern ON docs (title text_pattern_ops);
CREATE UNIQUE INDEX docs_code_nnd ON docs (code, rank) NULLS NOT DISTINCT;
