CREATE FUNCTION public.lookup_rate(code text) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT 1.0 $$;
CREATE FUNCTION public.recent_codes() RETURNS SETOF text LANGUAGE sql STABLE AS $$ SELECT 'x' $$;
