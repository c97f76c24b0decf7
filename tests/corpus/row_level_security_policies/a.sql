CREATE SCHEMA app;
CREATE TABLE app.documents (id integer PRIMARY KEY, owner text NOT NULL, public boolean NOT NULL DEFAULT false);
CREATE POLICY read_public ON app.documents FOR SELECT USING (public);
CREATE TABLE app.notes (id integer PRIMARY KEY, author text);
