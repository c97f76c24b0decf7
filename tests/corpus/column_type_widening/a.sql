CREATE TABLE public.orders (
    id integer PRIMARY KEY,
    code varchar(20) NOT NULL,
    amount numeric(10,2),
    note text
);
