-- serial → identity, the common migration, and identity → serial: the old sequence goes
-- before the new one is made (they share a name), and the counter carries over.
CREATE TABLE events (id serial PRIMARY KEY, body text);
INSERT INTO events (body) VALUES ('a'), ('b');
CREATE TABLE legacy (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100), note text);
CREATE TABLE "Mixed Case" ("Key" bigserial, v text);
