CREATE TABLE codes (
    id integer NOT NULL,
    code text COLLATE "C",
    label varchar(20) COLLATE "POSIX"
);
