CREATE TABLE owners (
    id integer NOT NULL,
    thing_id integer,
    CONSTRAINT owners_pkey PRIMARY KEY (id)
);
