CREATE TABLE public.orders (
    id bigint PRIMARY KEY,
    code varchar(50) NOT NULL,
    amount numeric(14,4),
    note varchar(500)
);
