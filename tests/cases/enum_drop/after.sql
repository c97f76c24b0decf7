CREATE SCHEMA app;
CREATE TABLE app.things (
    id integer
);
