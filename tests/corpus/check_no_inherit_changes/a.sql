-- checks between inheritable and NO INHERIT, on a parent with a child table
CREATE TABLE public.accounts (
    id integer NOT NULL,
    balance numeric,
    owner text,
    CONSTRAINT accounts_balance_check CHECK (balance >= 0),
    CONSTRAINT accounts_owner_check CHECK (owner <> '') NO INHERIT
);
CREATE TABLE public.savings (rate numeric) INHERITS (public.accounts);
CREATE TABLE public.ledger (id integer, amount numeric);
