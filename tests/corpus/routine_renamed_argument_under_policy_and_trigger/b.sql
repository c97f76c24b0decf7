CREATE SCHEMA vault;

CREATE FUNCTION vault.may_see(uid integer) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN uid = 7;

CREATE FUNCTION vault.stamp() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN NEW.seen := now(); RETURN NEW; END $$;

CREATE TABLE vault.secret (
    id integer PRIMARY KEY,
    owner_id integer NOT NULL,
    seen timestamp with time zone
);

ALTER TABLE vault.secret ENABLE ROW LEVEL SECURITY;

CREATE POLICY secret_owner ON vault.secret USING (vault.may_see(owner_id));

CREATE TRIGGER secret_stamp BEFORE UPDATE ON vault.secret
    FOR EACH ROW WHEN (vault.may_see(NEW.owner_id)) EXECUTE FUNCTION vault.stamp();
