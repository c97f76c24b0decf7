CREATE TABLE counters (id bigserial PRIMARY KEY, small_id serial, label text);
CREATE SEQUENCE wide_id_seq AS smallint START WITH 5 MAXVALUE 1000;
CREATE TABLE wide (id bigint NOT NULL DEFAULT nextval('wide_id_seq'));
ALTER SEQUENCE wide_id_seq OWNED BY wide.id;
CREATE SEQUENCE narrow_n_seq AS integer INCREMENT BY 3;
CREATE TABLE narrow (n bigint NOT NULL DEFAULT nextval('narrow_n_seq'));
ALTER SEQUENCE narrow_n_seq OWNED BY narrow.n;
