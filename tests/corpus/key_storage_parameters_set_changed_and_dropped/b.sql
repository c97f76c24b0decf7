-- keys whose index has storage parameters: changed in place (with a comment), reset, set on a
-- key that had none, dropped with their key or their table, made with new keys and tables
CREATE TABLE public.accounts (
    id bigint NOT NULL,
    email text NOT NULL,
    handle text,
    CONSTRAINT accounts_pkey PRIMARY KEY (id) WITH (deduplicate_items = off, fillfactor = 90),
    CONSTRAINT accounts_email_key UNIQUE (email),
    CONSTRAINT accounts_handle_key UNIQUE (handle) WITH (fillfactor = 75)
);
COMMENT ON CONSTRAINT accounts_pkey ON public.accounts IS 'one row for each account';
CREATE TABLE public.ledger (
    id bigint NOT NULL,
    ref text,
    CONSTRAINT ledger_pkey PRIMARY KEY (id) WITH (fillfactor = 85) DEFERRABLE
);
-- a key made from an index with storage parameters
CREATE UNIQUE INDEX ledger_id_ref_key ON public.ledger (id, ref) WITH (fillfactor = 65);
ALTER TABLE public.ledger ADD CONSTRAINT ledger_id_ref_key UNIQUE USING INDEX ledger_id_ref_key;
CREATE TABLE public.rooms (
    room integer NOT NULL,
    CONSTRAINT rooms_once EXCLUDE USING btree (room WITH =) WITH (fillfactor = 55)
);
CREATE TABLE public.fresh (
    id integer CONSTRAINT fresh_pkey PRIMARY KEY WITH (fillfactor = 40),
    code text CONSTRAINT fresh_code_key UNIQUE WITH (fillfactor = 45, deduplicate_items = off)
);
INSERT INTO public.accounts VALUES (1, 'a@example.com', 'a'), (2, 'b@example.com', NULL);
INSERT INTO public.ledger VALUES (1, 'x');
