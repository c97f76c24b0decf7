CREATE TABLE tickets (id integer NOT NULL PRIMARY KEY, title text);
CREATE SEQUENCE tickets_id_seq AS integer OWNED BY tickets.id;
COMMENT ON SEQUENCE tickets_id_seq IS 'ticket numbers';
CREATE TABLE labels (n integer NOT NULL, name text);
CREATE SEQUENCE label_nos AS integer START WITH 20 INCREMENT BY 2 OWNED BY labels.n;
ALTER TABLE labels ALTER n SET DEFAULT nextval('label_nos');
