CREATE TABLE public.accounts (id integer PRIMARY KEY, balance numeric NOT NULL);
CREATE TABLE public.limits (account integer, ceiling numeric);
CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END
$$;
CREATE TRIGGER accounts_moved AFTER UPDATE ON public.accounts
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit();
CREATE TRIGGER accounts_paused AFTER INSERT ON public.accounts
    FOR EACH ROW EXECUTE FUNCTION public.audit();
ALTER TABLE public.accounts DISABLE TRIGGER accounts_paused;
CREATE TRIGGER accounts_replica AFTER DELETE ON public.accounts
    FOR EACH ROW EXECUTE FUNCTION public.audit();
ALTER TABLE public.accounts ENABLE REPLICA TRIGGER accounts_replica;
