CREATE FUNCTION public.lookup_rate(code text) RETURNS numeric LANGUAGE sql STABLE COST 50
    SET statement_timeout = '30s' SET work_mem = '64MB' AS $$ SELECT 1.0 $$;
CREATE FUNCTION public.recent_codes() RETURNS SETOF text LANGUAGE sql STABLE ROWS 20 AS $$ SELECT 'x' $$;
-- a setting whose value is a case-sensitive word, written bare in the export (TimeZone: UTC)
CREATE FUNCTION public.utc_now() RETURNS timestamptz LANGUAGE sql STABLE
    SET timezone = 'UTC' SET datestyle = 'ISO, DMY' AS $$ SELECT now() $$;
