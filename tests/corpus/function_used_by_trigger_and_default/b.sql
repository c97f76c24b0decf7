CREATE FUNCTION public.next_code() RETURNS text LANGUAGE sql VOLATILE AS $$SELECT md5(random()::text)$$;
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
CREATE TABLE public.notes (
    id integer PRIMARY KEY, body text,
    code text DEFAULT public.next_code(),
    updated_at timestamptz
);
CREATE TRIGGER notes_touch BEFORE UPDATE ON public.notes FOR EACH ROW EXECUTE FUNCTION public.touch();
