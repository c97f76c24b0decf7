CREATE EXTENSION citext VERSION '1.6';
CREATE TABLE public.logins (id integer PRIMARY KEY, name citext UNIQUE);
