CREATE TABLE people (
    id integer NOT NULL,
    name text,
    nick text NOT NULL
);
