CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
COMMENT ON TYPE mood IS 'How it feels.';
CREATE TYPE "weird labels" AS ENUM ('it''s', 'a b', '');
CREATE TABLE entries (
    id integer NOT NULL,
    feeling mood NOT NULL DEFAULT 'ok',
    history mood[],
    odd "weird labels",
    CONSTRAINT entries_pkey PRIMARY KEY (id)
);
