-- Quoted-body routines whose signature names a table's or a view's row type: created after
-- the relation, dropped before it.
CREATE SCHEMA shop;

CREATE TABLE shop.customer (id integer PRIMARY KEY, name text NOT NULL, vip boolean);

CREATE VIEW shop.vip_customer AS SELECT id, name FROM shop.customer WHERE vip;

CREATE FUNCTION shop.customers_named(pattern text) RETURNS SETOF shop.customer
    LANGUAGE sql STABLE
    AS $$ SELECT * FROM shop.customer WHERE name LIKE pattern $$;

CREATE FUNCTION shop.badge(c shop.vip_customer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN '*' || c.name; END $$;

CREATE FUNCTION shop.first_vips(n integer) RETURNS shop.vip_customer[]
    LANGUAGE sql STABLE
    AS $$ SELECT array_agg(v) FROM (SELECT v FROM shop.vip_customer AS v LIMIT n) AS s $$;

CREATE PROCEDURE shop.rename(INOUT c shop.customer, new_name text)
    LANGUAGE plpgsql
    AS $$ BEGIN c.name := new_name; END $$;
