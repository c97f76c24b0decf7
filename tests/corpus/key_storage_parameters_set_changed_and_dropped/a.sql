-- keys whose index has storage parameters: changed in place (with a comment), reset, set on a
-- key that had none, dropped with their key or their table, made with new keys and tables
CREATE TABLE public.accounts (
    id bigint NOT NULL,
    email text NOT NULL,
    handle text,
    CONSTRAINT accounts_pkey PRIMARY KEY (id) WITH (fillfactor = 70),
    CONSTRAINT accounts_email_key UNIQUE (email) WITH (fillfactor = 80, deduplicate_items = off),
    CONSTRAINT accounts_handle_key UNIQUE (handle)
);
COMMENT ON CONSTRAINT accounts_pkey ON public.accounts IS 'one row per account';
CREATE TABLE public.ledger (
    id bigint NOT NULL,
    ref text,
    CONSTRAINT ledger_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_ref_key UNIQUE NULLS NOT DISTINCT (ref) WITH (fillfactor = 60)
);
CREATE TABLE public.rooms (
    room integer NOT NULL,
    CONSTRAINT rooms_once EXCLUDE USING btree (room WITH =) WITH (fillfactor = 70)
);
CREATE TABLE public.gone (id integer CONSTRAINT gone_pkey PRIMARY KEY WITH (fillfactor = 50));
INSERT INTO public.accounts VALUES (1, 'a@example.com', 'a'), (2, 'b@example.com', NULL);
INSERT INTO public.ledger VALUES (1, 'x');
