DO $$ BEGIN CREATE ROLE corpus_teller NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE public.accounts (id integer PRIMARY KEY, balance integer, owner_name text);
CREATE VIEW public.account_balances AS SELECT id, balance, owner_name FROM public.accounts;
GRANT SELECT (id, balance) ON public.account_balances TO corpus_teller;
GRANT SELECT (owner_name), UPDATE (balance) ON public.accounts TO corpus_teller;
