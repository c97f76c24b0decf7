-- checks between inheritable and NO INHERIT, on a parent with a child table
CREATE TABLE public.accounts (
    id integer NOT NULL,
    balance numeric,
    owner text,
    CONSTRAINT accounts_balance_check CHECK (balance >= 0) NO INHERIT,
    CONSTRAINT accounts_owner_check CHECK (owner <> ''),
    CONSTRAINT accounts_id_check CHECK (id > 0) NO INHERIT
);
CREATE TABLE public.savings (rate numeric) INHERITS (public.accounts);
CREATE TABLE public.ledger (id integer, amount numeric);
ALTER TABLE public.ledger ADD CONSTRAINT ledger_amount_check CHECK (amount <> 0) NO INHERIT NOT VALID;
CREATE TABLE public.fresh (
    n integer CONSTRAINT fresh_n_check CHECK (n > 0) NO INHERIT
);
ALTER TABLE public.fresh ADD CONSTRAINT fresh_n_small CHECK (n < 100) NO INHERIT NOT VALID;
