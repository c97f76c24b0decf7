CREATE FUNCTION public.is_even(n integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT n % 2 = 0 $$;
CREATE DOMAIN public.quantity AS integer CONSTRAINT quantity_positive CHECK (VALUE > 0);
CREATE DOMAIN public.pair_count AS integer CONSTRAINT pair_count_even CHECK (public.is_even(VALUE));
