CREATE EXTENSION citext;
CREATE EXTENSION pgcrypto;
CREATE TABLE users (
    id integer NOT NULL,
    email citext,
    secret bytea DEFAULT gen_random_bytes(8),
    CONSTRAINT users_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_users_email ON users (email);
