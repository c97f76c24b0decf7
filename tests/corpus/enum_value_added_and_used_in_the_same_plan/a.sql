CREATE TYPE public.ticket_state AS ENUM ('open', 'closed');
CREATE TABLE public.tickets (id integer PRIMARY KEY, state public.ticket_state NOT NULL);
