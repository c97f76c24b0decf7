CREATE TABLE public.parcels (
    id integer PRIMARY KEY,
    weight_g integer NOT NULL,
    label text,
    weight_kg numeric GENERATED ALWAYS AS (round(weight_g / 1000.0, 1)) STORED
);
