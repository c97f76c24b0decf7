-- Corner Video 1.1: every table records when a row last changed (kept by a trigger),
-- films get categories, and a store names its manager.

CREATE FUNCTION last_updated() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.last_update := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION last_updated() IS 'BEFORE UPDATE trigger: stamps last_update.';

CREATE TABLE store (
    store_id serial PRIMARY KEY,
    name text NOT NULL,
    address text NOT NULL,
    city text NOT NULL,
    phone text,
    opened_on date NOT NULL DEFAULT CURRENT_DATE,
    manager_staff_id integer,
    last_update timestamp without time zone NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    staff_id serial PRIMARY KEY,
    store_id integer NOT NULL REFERENCES store (store_id),
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text,
    username text NOT NULL UNIQUE,
    active boolean NOT NULL DEFAULT true,
    last_update timestamp without time zone NOT NULL DEFAULT now()
);

ALTER TABLE store ADD CONSTRAINT store_manager_staff_id_fkey
    FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE customer (
    customer_id serial PRIMARY KEY,
    store_id integer NOT NULL REFERENCES store (store_id),
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text,
    phone text,
    active boolean NOT NULL DEFAULT true,
    created_at timestamp without time zone NOT NULL DEFAULT now(),
    last_update timestamp without time zone NOT NULL DEFAULT now()
);

CREATE INDEX customer_last_name_idx ON customer (last_name);
CREATE INDEX customer_store_id_idx ON customer (store_id);

CREATE TABLE film (
    film_id serial PRIMARY KEY,
    title text NOT NULL,
    description text,
    release_year integer,
    rating text,
    length_minutes smallint CHECK (length_minutes > 0),
    rental_duration smallint NOT NULL DEFAULT 3,
    rental_rate numeric(4,2) NOT NULL DEFAULT 2.99,
    replacement_cost numeric(5,2) NOT NULL DEFAULT 19.99,
    last_update timestamp without time zone NOT NULL DEFAULT now()
);

CREATE INDEX film_title_idx ON film (title);

CREATE TABLE category (
    category_id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    last_update timestamp without time zone NOT NULL DEFAULT now()
);

CREATE TABLE film_category (
    film_id integer NOT NULL REFERENCES film (film_id) ON DELETE CASCADE,
    category_id integer NOT NULL REFERENCES category (category_id),
    last_update timestamp without time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (film_id, category_id)
);

CREATE TABLE inventory (
    inventory_id serial PRIMARY KEY,
    film_id integer NOT NULL REFERENCES film (film_id),
    store_id integer NOT NULL REFERENCES store (store_id),
    acquired_on date NOT NULL DEFAULT CURRENT_DATE,
    last_update timestamp without time zone NOT NULL DEFAULT now()
);

CREATE INDEX inventory_store_film_idx ON inventory (store_id, film_id);

CREATE TRIGGER last_updated BEFORE UPDATE ON store FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON category FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON film_category FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON inventory FOR EACH ROW EXECUTE FUNCTION last_updated();

COMMENT ON TABLE store IS 'A physical shop.';
COMMENT ON COLUMN store.manager_staff_id IS 'The staff member who runs the shop.';
COMMENT ON TABLE inventory IS 'One physical copy (tape or disc) of a film, kept at one store.';
