CREATE FUNCTION public.density(weight_g integer, volume_cm3 integer) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT
    RETURN weight_g::numeric / nullif(volume_cm3, 0);

CREATE FUNCTION public.plausible(weight_g integer, volume_cm3 integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT
    BEGIN ATOMIC
        SELECT public.density(weight_g, volume_cm3) BETWEEN 0.01 AND 25;
    END;

CREATE TABLE public.parcel (
    id integer PRIMARY KEY,
    weight_g integer NOT NULL,
    volume_cm3 integer NOT NULL,
    CONSTRAINT parcel_plausible CHECK (public.plausible(weight_g, volume_cm3))
);
