CREATE TABLE public.accounts (id integer PRIMARY KEY, balance numeric NOT NULL);
CREATE TABLE public.limits (account integer, ceiling numeric);
CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END
$$;
CREATE TRIGGER accounts_moved AFTER UPDATE ON public.accounts
    REFERENCING NEW TABLE AS after_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit();
CREATE TRIGGER accounts_added AFTER INSERT ON public.accounts
    REFERENCING NEW TABLE AS added
    FOR EACH ROW EXECUTE FUNCTION public.audit();
CREATE TRIGGER accounts_gone AFTER DELETE ON public.accounts
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit();
ALTER TABLE public.accounts DISABLE TRIGGER accounts_gone;
CREATE TRIGGER accounts_paused AFTER INSERT ON public.accounts
    FOR EACH ROW EXECUTE FUNCTION public.audit();
ALTER TABLE public.accounts ENABLE ALWAYS TRIGGER accounts_paused;
CREATE TRIGGER accounts_replica AFTER DELETE ON public.accounts
    FOR EACH ROW EXECUTE FUNCTION public.audit();
ALTER TABLE public.accounts DISABLE TRIGGER accounts_replica;
CREATE CONSTRAINT TRIGGER limits_checked AFTER INSERT OR UPDATE ON public.accounts
    FROM public.limits DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION public.audit('limits');
CREATE CONSTRAINT TRIGGER accounts_watched AFTER DELETE ON public.limits
    FROM public.accounts
    FOR EACH ROW EXECUTE FUNCTION public.audit();
