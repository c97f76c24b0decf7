CREATE TABLE public.accounts (id integer PRIMARY KEY, balance numeric NOT NULL);
CREATE FUNCTION public.check_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance < 0 THEN RAISE EXCEPTION 'negative balance on %', NEW.id; END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER balance_at_commit AFTER INSERT OR UPDATE OF balance ON public.accounts
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.balance < 1000000) EXECUTE FUNCTION public.check_balance();
CREATE CONSTRAINT TRIGGER balance_checked AFTER UPDATE ON public.accounts
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION public.check_balance('strict');
COMMENT ON TRIGGER balance_at_commit ON public.accounts IS 'Checked at commit.';
