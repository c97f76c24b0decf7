CREATE TYPE public.ticket_state AS ENUM ('open', 'waiting', 'closed');
CREATE TABLE public.tickets (id integer PRIMARY KEY, state public.ticket_state NOT NULL);
CREATE INDEX tickets_waiting_idx ON public.tickets (id) WHERE state = 'waiting';
CREATE VIEW public.waiting_tickets AS SELECT id FROM public.tickets WHERE state = 'waiting';
ALTER TABLE public.tickets ADD CONSTRAINT tickets_not_waiting_forever CHECK (state <> 'waiting' OR id > 0);
