CREATE FUNCTION public.area(r numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$SELECT pi() * r * r$$;
CREATE FUNCTION public.area(w numeric, h numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$SELECT w * h$$;
CREATE PROCEDURE public.reset_counts() LANGUAGE sql AS $$SELECT 1$$;
