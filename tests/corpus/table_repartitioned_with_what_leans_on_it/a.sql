-- a plain table with a serial key, an index, a trigger, a policy, grants and a comment; a
-- view, a function of its row type and a foreign key from another table lean on it
DO $$ BEGIN CREATE ROLE corpus_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE public.readings (id serial, site text NOT NULL, at timestamptz NOT NULL,
    value numeric, PRIMARY KEY (id, site, at));
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
-- inheritance partitioning, to move to declarative partitions
CREATE TABLE public.archive (id int NOT NULL, at date NOT NULL);
CREATE TABLE public.archive_old (CHECK (at < '2020-01-01')) INHERITS (public.archive);
CREATE TABLE public.archive_new (CHECK (at >= '2020-01-01')) INHERITS (public.archive);
