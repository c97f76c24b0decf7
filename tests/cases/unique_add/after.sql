CREATE TABLE seats (
    id integer NOT NULL,
    room text,
    "row" integer,
    num integer,
    holder text,
    CONSTRAINT seats_pkey PRIMARY KEY (id),
    CONSTRAINT seats_room_row_num_key UNIQUE (room, "row", num),
    CONSTRAINT seats_holder_uq UNIQUE (holder, room) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT seats_num_holder_nnd UNIQUE NULLS NOT DISTINCT (num, holder)
);
COMMENT ON CONSTRAINT seats_room_row_num_key ON seats IS 'One seat per place.';
