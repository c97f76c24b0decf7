CREATE TABLE public.accounts (id integer PRIMARY KEY, owner text, balance numeric);
CREATE VIEW public.my_accounts WITH (security_invoker = true) AS
    SELECT id, balance FROM public.accounts WHERE owner = current_user;
COMMENT ON COLUMN public.my_accounts.id IS 'The account.';
COMMENT ON COLUMN public.my_accounts.balance IS 'In euros.';
CREATE VIEW public.rich AS SELECT id FROM public.accounts WHERE balance > 1000
    WITH CASCADED CHECK OPTION;
CREATE MATERIALIZED VIEW public.totals WITH (fillfactor = 70) AS
    SELECT owner, sum(balance) AS total FROM public.accounts GROUP BY owner;
COMMENT ON COLUMN public.totals.total IS 'Sum of balances.';
