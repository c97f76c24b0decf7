CREATE EXTENSION pgcrypto;
CREATE EXTENSION citext;
CREATE TABLE users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    email citext NOT NULL,
    token text DEFAULT encode(gen_random_bytes(16), 'hex'),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);
