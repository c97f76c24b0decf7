-- Corner Video: first release of the back-office database.
-- Stores, their staff, customers, the film catalogue and the copies on the shelves.

CREATE TABLE store (
    store_id serial PRIMARY KEY,
    name text NOT NULL,
    address text NOT NULL,
    city text NOT NULL,
    phone text,
    opened_on date NOT NULL DEFAULT CURRENT_DATE
);

CREATE TABLE staff (
    staff_id serial PRIMARY KEY,
    store_id integer NOT NULL REFERENCES store (store_id),
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text,
    username text NOT NULL UNIQUE,
    active boolean NOT NULL DEFAULT true
);

CREATE TABLE customer (
    customer_id serial PRIMARY KEY,
    store_id integer NOT NULL REFERENCES store (store_id),
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text,
    phone text,
    active boolean NOT NULL DEFAULT true,
    created_at timestamp without time zone NOT NULL DEFAULT now()
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
    replacement_cost numeric(5,2) NOT NULL DEFAULT 19.99
);

CREATE INDEX film_title_idx ON film (title);

CREATE TABLE inventory (
    inventory_id serial PRIMARY KEY,
    film_id integer NOT NULL REFERENCES film (film_id),
    store_id integer NOT NULL REFERENCES store (store_id),
    acquired_on date NOT NULL DEFAULT CURRENT_DATE
);

CREATE INDEX inventory_store_film_idx ON inventory (store_id, film_id);

COMMENT ON TABLE store IS 'A physical shop.';
COMMENT ON TABLE inventory IS 'One physical copy (tape or disc) of a film, kept at one store.';
