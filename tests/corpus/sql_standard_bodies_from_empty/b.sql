-- SQL-standard bodies (RETURN, BEGIN ATOMIC) that call each other, read tables and views,
-- and take or return a table's or a view's row type: built from empty in dependency order.
CREATE SCHEMA ledger;

CREATE TABLE ledger.account (
    id integer PRIMARY KEY,
    owner text NOT NULL,
    balance numeric(12, 2) NOT NULL DEFAULT 0
);

CREATE VIEW ledger.rich AS SELECT id, owner FROM ledger.account WHERE balance > 1000;

CREATE FUNCTION ledger.cents(amount numeric) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT
    RETURN round(amount * 100);

CREATE FUNCTION ledger.total_cents() RETURNS bigint
    LANGUAGE sql STABLE
    BEGIN ATOMIC
        SELECT ledger.cents(coalesce(sum(balance), 0)) FROM ledger.account;
    END;

CREATE FUNCTION public.report(prefix text) RETURNS text
    LANGUAGE sql STABLE
    RETURN prefix || ': ' || ledger.total_cents()::text;

CREATE FUNCTION ledger.accounts_of(who text) RETURNS SETOF ledger.account
    LANGUAGE sql STABLE
    AS $$ SELECT * FROM ledger.account WHERE owner = who $$;

CREATE FUNCTION ledger.describe(r ledger.rich) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN r.owner || '#' || r.id; END $$;

CREATE FUNCTION ledger.rich_count() RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (SELECT count(*) FROM ledger.rich);

CREATE PROCEDURE ledger.open_account(new_id integer, who text)
    LANGUAGE sql
    BEGIN ATOMIC
        INSERT INTO ledger.account (id, owner) VALUES (new_id, who);
    END;
