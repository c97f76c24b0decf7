CREATE TABLE public.samples (
    id uuid PRIMARY KEY,
    small smallint, big bigint, real_v real, double_v double precision,
    money_v numeric(19,4), flag boolean NOT NULL DEFAULT false,
    born date, at_time time without time zone, at_tz timestamptz(3), span interval,
    raw bytea, ip inet, net cidr, mac macaddr,
    doc jsonb, xml_v xml, bits bit varying(16), chars char(3),
    ints integer[], matrix numeric(5,2)[][], words varchar(20)[],
    pt point, box_v box, range_v int4range, tsv tsvector
);
