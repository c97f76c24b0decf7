CREATE DOMAIN public.quantity AS integer;
