CREATE TABLE users (
    id integer NOT NULL,
    email text,
    removed_at timestamptz,
    CONSTRAINT users_mail_check CHECK (email <> '')
);
CREATE INDEX users_mail_lower ON users (lower(email));
CREATE INDEX users_live_idx ON users (id) WHERE removed_at IS NULL;
