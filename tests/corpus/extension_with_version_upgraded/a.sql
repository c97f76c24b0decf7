CREATE EXTENSION citext VERSION '1.5';
CREATE TABLE public.logins (id integer PRIMARY KEY, name citext);
