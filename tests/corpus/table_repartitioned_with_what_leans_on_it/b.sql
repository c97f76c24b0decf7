-- the same table partitioned by site (LIST), then by time (RANGE) under the sites: every
-- object on it and leaning on it made again; the inheritance tree becomes declarative
DO $$ BEGIN CREATE ROLE corpus_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE public.readings (id serial, site text NOT NULL, at timestamptz NOT NULL,
    value numeric, PRIMARY KEY (id, site, at)) PARTITION BY LIST (site);
CREATE TABLE public.readings_north PARTITION OF public.readings FOR VALUES IN ('north')
    PARTITION BY RANGE (at);
CREATE TABLE public.readings_north_2026 PARTITION OF public.readings_north
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.readings_rest PARTITION OF public.readings DEFAULT;
COMMENT ON TABLE public.readings IS 'raw readings';
CREATE INDEX readings_at ON public.readings (at);
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN RETURN NEW; END$$;
CREATE TRIGGER readings_touch BEFORE UPDATE ON public.readings
    FOR EACH ROW EXECUTE FUNCTION public.touch();
ALTER TABLE public.readings ENABLE ROW LEVEL SECURITY;
CREATE POLICY readings_site ON public.readings USING (site <> 'hidden');
GRANT SELECT ON public.readings TO corpus_reader;
CREATE VIEW public.latest AS SELECT site, max(at) AS at FROM public.readings GROUP BY site;
CREATE FUNCTION public.of_site(s text) RETURNS SETOF public.readings LANGUAGE sql STABLE
    AS $$SELECT * FROM public.readings WHERE site = s$$;
CREATE TABLE public.flags (reading int, site text, at timestamptz,
    FOREIGN KEY (reading, site, at) REFERENCES public.readings);
CREATE TABLE public.archive (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE public.archive_old PARTITION OF public.archive
    FOR VALUES FROM (MINVALUE) TO ('2020-01-01');
CREATE TABLE public.archive_new PARTITION OF public.archive
    FOR VALUES FROM ('2020-01-01') TO (MAXVALUE);
