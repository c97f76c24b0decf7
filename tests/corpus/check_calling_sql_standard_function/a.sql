-- A check added to a live table calls an SQL-standard function the same plan creates (the
-- function first; on rollback the check is dropped before the function).
CREATE TABLE public.parcel (
    id integer PRIMARY KEY,
    weight_g integer NOT NULL,
    volume_cm3 integer NOT NULL
);
