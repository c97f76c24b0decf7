-- Only the table's plain columns remain.
CREATE TABLE public.users (
    id integer PRIMARY KEY,
    note text
);
