CREATE SCHEMA org;
CREATE TABLE org.teams (
    id integer NOT NULL,
    lead_id integer,
    CONSTRAINT teams_pkey PRIMARY KEY (id)
);
CREATE TABLE people (
    id integer NOT NULL,
    team_id integer,
    manager_id integer,
    CONSTRAINT people_pkey PRIMARY KEY (id)
);
ALTER TABLE org.teams ADD CONSTRAINT teams_lead_fk FOREIGN KEY (lead_id)
    REFERENCES people (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE people ADD CONSTRAINT fk_people_teams FOREIGN KEY (team_id)
    REFERENCES org.teams (id) ON UPDATE RESTRICT ON DELETE CASCADE;
COMMENT ON CONSTRAINT fk_people_teams ON people IS 'Home team.';
ALTER TABLE people ADD CONSTRAINT people_manager_fk FOREIGN KEY (manager_id)
    REFERENCES people (id) ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE;
CREATE TABLE shipments (
    id integer NOT NULL,
    region text,
    code integer,
    CONSTRAINT shipments_pkey PRIMARY KEY (id),
    CONSTRAINT shipments_region_code_key UNIQUE (region, code)
);
CREATE TABLE parcels (
    id integer NOT NULL,
    region text,
    code integer,
    CONSTRAINT parcels_pkey PRIMARY KEY (id),
    CONSTRAINT fk_parcels_shipments FOREIGN KEY (region, code)
        REFERENCES shipments (region, code) MATCH FULL ON UPDATE CASCADE ON DELETE SET DEFAULT
);
