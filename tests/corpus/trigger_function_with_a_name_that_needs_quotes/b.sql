CREATE SCHEMA "audit tools";
CREATE FUNCTION "audit tools"."Bump Revision"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END;
$$;
CREATE TABLE "Ledger Entries" (
    id bigint PRIMARY KEY,
    revision integer NOT NULL DEFAULT 0
);
CREATE TRIGGER "bump on update" BEFORE UPDATE ON "Ledger Entries"
    FOR EACH ROW EXECUTE FUNCTION "audit tools"."Bump Revision"();
