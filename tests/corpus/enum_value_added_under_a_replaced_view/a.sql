CREATE TYPE public.rating AS ENUM ('G', 'PG', 'R');
CREATE TABLE public.films (id integer PRIMARY KEY, title text NOT NULL, rating public.rating);
CREATE VIEW public.film_titles AS SELECT id, title, rating FROM public.films;
