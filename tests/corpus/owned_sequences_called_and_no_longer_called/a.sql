-- A column that starts calling the sequence it owns (it becomes the column's own, serial)
-- and one whose default stops calling it (the sequence stays, owned by the column): the
-- sequence is kept with its value, options and comment, only the default changes.
CREATE TABLE tickets (id serial PRIMARY KEY, title text);
COMMENT ON SEQUENCE tickets_id_seq IS 'ticket numbers';
CREATE TABLE labels (n integer NOT NULL, name text);
CREATE SEQUENCE label_nos AS integer START WITH 20 OWNED BY labels.n;
