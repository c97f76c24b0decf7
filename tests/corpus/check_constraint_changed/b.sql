CREATE TABLE public.people (
    id integer PRIMARY KEY,
    age integer,
    CONSTRAINT ck_people_age CHECK (age >= 0 AND age < 150),
    CONSTRAINT ck_people_id CHECK (id > 0)
);
