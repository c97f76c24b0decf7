CREATE TABLE public.ledger_entries (entry_no bigint PRIMARY KEY, amount numeric(12,2) NOT NULL);
CREATE TABLE public.seats (seat text, position integer, CONSTRAINT seats_pk PRIMARY KEY (seat) DEFERRABLE);
