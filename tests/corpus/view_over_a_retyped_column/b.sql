CREATE TABLE public.users (id integer PRIMARY KEY, email varchar(300));
CREATE VIEW public.user_emails AS SELECT id, email FROM public.users;
