-- Row-level security turned on (and forced), policies added, changed and kept.
CREATE SCHEMA app;
CREATE TABLE app.documents (id integer PRIMARY KEY, owner text NOT NULL, public boolean NOT NULL DEFAULT false);
ALTER TABLE app.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY read_public ON app.documents FOR SELECT USING (public OR owner = current_user);
CREATE POLICY own_rows ON app.documents AS PERMISSIVE FOR ALL TO PUBLIC
    USING (owner = current_user) WITH CHECK (owner = current_user AND id > 0);
CREATE POLICY no_empty_owner ON app.documents AS RESTRICTIVE FOR INSERT WITH CHECK (owner <> '');
COMMENT ON POLICY own_rows ON app.documents IS 'Owners see and write their rows.';
CREATE TABLE app.notes (id integer PRIMARY KEY, author text);
ALTER TABLE app.notes ENABLE ROW LEVEL SECURITY;
CREATE TABLE app.fresh (id integer PRIMARY KEY);
ALTER TABLE app.fresh ENABLE ROW LEVEL SECURITY;
CREATE POLICY fresh_all ON app.fresh USING (true);
