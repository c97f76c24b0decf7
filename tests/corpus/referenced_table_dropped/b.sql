CREATE TABLE public.players (id integer PRIMARY KEY, team_id integer);
