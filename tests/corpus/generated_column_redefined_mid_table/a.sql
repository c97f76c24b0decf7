CREATE TABLE public.parcels (
    id integer PRIMARY KEY,
    weight_g integer NOT NULL,
    weight_kg numeric GENERATED ALWAYS AS (weight_g / 1000.0) STORED,
    label text
);
