-- A serial column widened to bigint takes its sequence along (AS bigint and its maximum, as
-- a bigserial has); a sequence whose type is not its column's keeps its own type.
CREATE TABLE counters (id serial PRIMARY KEY, small_id smallserial, label text);
CREATE SEQUENCE wide_id_seq AS integer START WITH 5;
CREATE TABLE wide (id bigint NOT NULL DEFAULT nextval('wide_id_seq'));
ALTER SEQUENCE wide_id_seq OWNED BY wide.id;
CREATE SEQUENCE narrow_n_seq AS bigint INCREMENT BY 3 MAXVALUE 90000;
CREATE TABLE narrow (n integer NOT NULL DEFAULT nextval('narrow_n_seq'));
ALTER SEQUENCE narrow_n_seq OWNED BY narrow.n;
