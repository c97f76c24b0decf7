CREATE TABLE public.accounts (id integer PRIMARY KEY, balance numeric NOT NULL);
CREATE FUNCTION public.check_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance < 0 THEN RAISE EXCEPTION 'negative balance on %', NEW.id; END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER balance_immediate AFTER INSERT ON public.accounts
    FOR EACH ROW EXECUTE FUNCTION public.check_balance();
