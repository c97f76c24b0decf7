CREATE TABLE items (
    id bigint NOT NULL,
    code varchar(50),
    qty integer,
    CONSTRAINT items_pkey PRIMARY KEY (id)
);
