CREATE TYPE public.status AS ENUM ('new', 'legacy', 'done');
CREATE TABLE public.tasks (id integer PRIMARY KEY, status public.status);
