CREATE TABLE public.people (id integer PRIMARY KEY, age integer, CONSTRAINT ck_people_age CHECK (age >= 0));
