CREATE TABLE docs (
    a text,
    b integer
);
