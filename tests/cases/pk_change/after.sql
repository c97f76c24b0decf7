CREATE TABLE memberships (
    tenant_id integer NOT NULL,
    id integer NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, id)
);
COMMENT ON CONSTRAINT memberships_pkey ON memberships IS 'New key.';
