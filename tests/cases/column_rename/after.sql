CREATE TABLE users (
    id integer NOT NULL,
    email text NOT NULL,
    "Spitzname" text,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_mail_uq UNIQUE (email)
);
COMMENT ON COLUMN users.email IS 'Login.';
CREATE INDEX users_mail_idx ON users (email, id);
CREATE TABLE logins (
    id integer NOT NULL,
    user_email text,
    CONSTRAINT logins_pkey PRIMARY KEY (id),
    CONSTRAINT logins_user_fk FOREIGN KEY (user_email) REFERENCES users (email)
);
