CREATE TABLE public.docs (id integer PRIMARY KEY, title text, body jsonb, rank integer, tags text[]);
CREATE INDEX idx_docs_title_lower ON public.docs (lower(title));
CREATE INDEX idx_docs_rank ON public.docs (rank DESC NULLS LAST) INCLUDE (title);
CREATE INDEX idx_docs_ranked ON public.docs (rank) WHERE rank > 0;
CREATE INDEX idx_docs_body ON public.docs USING gin (body jsonb_path_ops);
CREATE INDEX idx_docs_tags ON public.docs USING gin (tags);
CREATE UNIQUE INDEX idx_docs_title ON public.docs (title) NULLS NOT DISTINCT;
CREATE INDEX idx_docs_title_c ON public.docs (title COLLATE "C" text_pattern_ops);
