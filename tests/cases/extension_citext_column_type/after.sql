CREATE EXTENSION citext;
CREATE TABLE users (
    id integer NOT NULL,
    email citext NOT NULL,
    nick varchar(30)
);
