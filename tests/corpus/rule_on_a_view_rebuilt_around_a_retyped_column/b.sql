-- The balance widened to bigint (balance_log keeps integer).
CREATE TABLE public.accounts (id integer PRIMARY KEY, balance bigint, owner_name text);
CREATE TABLE public.balance_log (id integer, balance integer);
CREATE VIEW public.account_balances AS SELECT id, balance, owner_name FROM public.accounts;
CREATE RULE account_balances_insert AS ON INSERT TO public.account_balances DO INSTEAD
    INSERT INTO public.accounts (id, balance, owner_name) VALUES (new.id, new.balance, new.owner_name);
CREATE RULE account_balances_update AS ON UPDATE TO public.account_balances DO INSTEAD
    UPDATE public.accounts SET balance = new.balance WHERE accounts.id = old.id;
COMMENT ON RULE account_balances_update ON public.account_balances IS 'balance only';
CREATE RULE accounts_log AS ON UPDATE TO public.accounts WHERE new.balance <> old.balance
    DO ALSO INSERT INTO public.balance_log VALUES (new.id, new.balance);
