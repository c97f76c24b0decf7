CREATE TABLE public.audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION public.record(what text) RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = '' AS $$ INSERT INTO public.audit_log (what) VALUES (record.what) $$;
CREATE FUNCTION public.record_in(what text) RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$ INSERT INTO public.audit_log (what) VALUES (record_in.what) $$;
