CREATE TABLE public.events (id integer NOT NULL, at timestamptz NOT NULL, kind text);
CREATE TABLE public.clicks (target text) INHERITS (public.events);
ALTER TABLE public.clicks ADD CONSTRAINT clicks_pkey PRIMARY KEY (id);
ALTER TABLE public.clicks ADD CONSTRAINT clicks_kind_check CHECK (kind = 'click');
CREATE INDEX idx_clicks_at ON public.clicks (at, target);
CREATE TABLE public.sessions (id integer NOT NULL, started date NOT NULL) PARTITION BY RANGE (started);
CREATE TABLE public.sessions_2026 PARTITION OF public.sessions
    (CONSTRAINT sessions_2026_id_check CHECK (id > 0))
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX idx_sessions_2026_id ON public.sessions_2026 (id);
