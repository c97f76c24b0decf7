CREATE TABLE words (
    a text COLLATE ucs_basic,
    b varchar(10),
    c varchar(20) COLLATE ucs_basic
);
