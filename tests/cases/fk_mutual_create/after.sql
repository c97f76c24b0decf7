CREATE TABLE eggs (
    id integer NOT NULL,
    hen_id integer,
    CONSTRAINT eggs_pkey PRIMARY KEY (id)
);
CREATE TABLE hens (
    id integer NOT NULL,
    egg_id integer,
    CONSTRAINT hens_pkey PRIMARY KEY (id),
    CONSTRAINT fk_hens_eggs FOREIGN KEY (egg_id) REFERENCES eggs (id)
        DEFERRABLE INITIALLY DEFERRED
);
ALTER TABLE eggs ADD CONSTRAINT fk_eggs_hens FOREIGN KEY (hen_id) REFERENCES hens (id)
    DEFERRABLE INITIALLY DEFERRED;
