CREATE SCHEMA app;
CREATE TABLE app.t (id integer PRIMARY KEY, secret text);
