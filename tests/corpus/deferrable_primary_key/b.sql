CREATE TABLE public.ledger_entries (
    entry_no bigint, amount numeric(12,2) NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (entry_no) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE public.seats (seat text, position integer, CONSTRAINT seats_pk PRIMARY KEY (seat));
