-- A routine's argument is renamed (a drop and a create): the row-level security policy and
-- the trigger condition calling it are dropped before and created again after.
CREATE SCHEMA vault;

CREATE FUNCTION vault.may_see(owner_id integer) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN owner_id = 7;

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
