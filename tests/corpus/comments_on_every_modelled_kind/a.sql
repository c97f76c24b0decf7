CREATE SCHEMA app;
CREATE TYPE app.kind AS ENUM ('a', 'b');
CREATE TABLE app.things (id integer CONSTRAINT things_pk PRIMARY KEY, kind app.kind, CONSTRAINT ck_things_id CHECK (id > 0));
CREATE INDEX idx_things_kind ON app.things (kind);
