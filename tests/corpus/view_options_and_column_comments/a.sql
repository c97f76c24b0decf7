CREATE TABLE public.accounts (id integer PRIMARY KEY, owner text, balance numeric);
CREATE VIEW public.my_accounts WITH (security_barrier = on) AS
    SELECT id, balance FROM public.accounts WHERE owner = current_user;
COMMENT ON COLUMN public.my_accounts.balance IS 'In cents.';
CREATE VIEW public.rich AS SELECT id FROM public.accounts WHERE balance > 1000;
