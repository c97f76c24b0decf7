-- Corner Video 1.5: catalogue search on the web page (a tsvector kept by the built-in
-- tsvector_update_trigger, GIN-indexed) and the stock lookups behind "is it on the shelf?".

CREATE DOMAIN release_year AS integer
    CONSTRAINT release_year_check CHECK (VALUE >= 1888 AND VALUE <= 2155);

COMMENT ON DOMAIN release_year IS 'A film''s year of release (no film predates 1888).';

CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');

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
    last_update timestamp without time zone NOT NULL DEFAULT now(),
    birth_date date CONSTRAINT customer_birth_date_check CHECK (birth_date > '1900-01-01')
);

CREATE INDEX customer_last_name_idx ON customer (last_name);
CREATE INDEX customer_store_id_idx ON customer (store_id);

CREATE TABLE film (
    film_id serial PRIMARY KEY,
    title text NOT NULL,
    description text,
    release_year release_year,
    rating mpaa_rating DEFAULT 'G',
    length_minutes smallint CHECK (length_minutes > 0),
    rental_duration smallint NOT NULL DEFAULT 3,
    rental_rate numeric(4,2) NOT NULL DEFAULT 2.99,
    replacement_cost numeric(5,2) NOT NULL DEFAULT 19.99,
    last_update timestamp without time zone NOT NULL DEFAULT now(),
    search_vector tsvector
);

CREATE INDEX film_title_idx ON film (title);
CREATE INDEX film_search_vector_idx ON film USING gin (search_vector);

CREATE TRIGGER film_search_vector_update
    BEFORE INSERT OR UPDATE ON film
    FOR EACH ROW EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.english', title, description);
CREATE INDEX film_rating_idx ON film (rating);

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

CREATE TABLE rental (
    rental_id serial PRIMARY KEY,
    rental_date timestamp without time zone NOT NULL DEFAULT now(),
    inventory_id integer NOT NULL REFERENCES inventory (inventory_id),
    customer_id integer NOT NULL REFERENCES customer (customer_id),
    return_date timestamp without time zone,
    staff_id integer NOT NULL REFERENCES staff (staff_id),
    last_update timestamp without time zone NOT NULL DEFAULT now(),
    CONSTRAINT rental_returned_after_rented CHECK (return_date IS NULL OR return_date >= rental_date)
);

CREATE UNIQUE INDEX rental_date_inventory_customer_key ON rental (rental_date, inventory_id, customer_id);
CREATE INDEX rental_customer_id_idx ON rental (customer_id);
CREATE INDEX rental_open_idx ON rental (inventory_id) WHERE return_date IS NULL;

CREATE FUNCTION customer_rentals(c customer) RETURNS SETOF rental
    LANGUAGE sql STABLE
AS $$
    SELECT * FROM rental r WHERE r.customer_id = c.customer_id ORDER BY r.rental_date DESC
$$;

CREATE FUNCTION active_customers(p_store_id integer) RETURNS SETOF customer
    LANGUAGE sql STABLE
AS $$
    SELECT * FROM customer WHERE store_id = p_store_id AND active ORDER BY last_name, first_name
$$;

CREATE FUNCTION inventory_in_stock(p_inventory_id integer) RETURNS boolean
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN NOT EXISTS (
        SELECT 1 FROM rental
        WHERE inventory_id = p_inventory_id AND return_date IS NULL
    );
END
$$;

CREATE TABLE payment (
    payment_id serial NOT NULL,
    customer_id integer NOT NULL,
    staff_id integer NOT NULL,
    rental_id integer,
    amount numeric(5,2) NOT NULL,
    payment_date timestamp without time zone NOT NULL
);

COMMENT ON TABLE payment IS 'Parent of the half-year payment tables; holds no rows itself.';

CREATE TABLE payment_p2023_h1 (
    CONSTRAINT payment_p2023_h1_payment_date_check
        CHECK (payment_date >= '2023-01-01 00:00:00' AND payment_date < '2023-07-01 00:00:00')
) INHERITS (payment);

CREATE TABLE payment_p2023_h2 (
    CONSTRAINT payment_p2023_h2_payment_date_check
        CHECK (payment_date >= '2023-07-01 00:00:00' AND payment_date < '2024-01-01 00:00:00')
) INHERITS (payment);

CREATE TABLE payment_p2024_h1 (
    CONSTRAINT payment_p2024_h1_payment_date_check
        CHECK (payment_date >= '2024-01-01 00:00:00' AND payment_date < '2024-07-01 00:00:00')
) INHERITS (payment);

ALTER TABLE payment ADD PRIMARY KEY (payment_id);
ALTER TABLE payment_p2023_h1 ADD PRIMARY KEY (payment_id);
ALTER TABLE payment_p2023_h2 ADD PRIMARY KEY (payment_id);
ALTER TABLE payment_p2024_h1 ADD PRIMARY KEY (payment_id);

ALTER TABLE payment_p2023_h1
    ADD FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
    ADD FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
    ADD FOREIGN KEY (rental_id) REFERENCES rental (rental_id) ON DELETE SET NULL;
ALTER TABLE payment_p2023_h2
    ADD FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
    ADD FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
    ADD FOREIGN KEY (rental_id) REFERENCES rental (rental_id) ON DELETE SET NULL;
ALTER TABLE payment_p2024_h1
    ADD FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
    ADD FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
    ADD FOREIGN KEY (rental_id) REFERENCES rental (rental_id) ON DELETE SET NULL;

CREATE INDEX payment_p2023_h1_customer_id_idx ON payment_p2023_h1 (customer_id);
CREATE INDEX payment_p2023_h2_customer_id_idx ON payment_p2023_h2 (customer_id);
CREATE INDEX payment_p2024_h1_customer_id_idx ON payment_p2024_h1 (customer_id);

CREATE FUNCTION payment_insert_router() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.payment_date >= '2023-01-01' AND NEW.payment_date < '2023-07-01' THEN
        INSERT INTO payment_p2023_h1 VALUES (NEW.*);
    ELSIF NEW.payment_date >= '2023-07-01' AND NEW.payment_date < '2024-01-01' THEN
        INSERT INTO payment_p2023_h2 VALUES (NEW.*);
    ELSIF NEW.payment_date >= '2024-01-01' AND NEW.payment_date < '2024-07-01' THEN
        INSERT INTO payment_p2024_h1 VALUES (NEW.*);
    ELSE
        RAISE EXCEPTION 'no payment table for payment_date %', NEW.payment_date;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER payment_insert_route
    BEFORE INSERT ON payment
    FOR EACH ROW EXECUTE FUNCTION payment_insert_router();

CREATE FUNCTION customer_balance(p_customer_id integer, p_effective_date timestamp without time zone)
    RETURNS numeric
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_fees numeric(7,2);
    v_paid numeric(7,2);
BEGIN
    SELECT coalesce(sum(f.rental_rate), 0) INTO v_fees
    FROM rental r
    JOIN inventory i ON i.inventory_id = r.inventory_id
    JOIN film f ON f.film_id = i.film_id
    WHERE r.customer_id = p_customer_id AND r.rental_date <= p_effective_date;

    SELECT coalesce(sum(p.amount), 0) INTO v_paid
    FROM payment p
    WHERE p.customer_id = p_customer_id AND p.payment_date <= p_effective_date;

    RETURN v_fees - v_paid;
END
$$;

CREATE VIEW sales_by_store AS
    SELECT s.store_id,
           s.city,
           m.first_name || ' ' || m.last_name AS manager,
           sum(p.amount) AS total_sales
    FROM payment p
    JOIN staff st ON st.staff_id = p.staff_id
    JOIN store s ON s.store_id = st.store_id
    LEFT JOIN staff m ON m.staff_id = s.manager_staff_id
    GROUP BY s.store_id, s.city, m.first_name, m.last_name;

CREATE VIEW monthly_revenue AS
    SELECT date_trunc('month', p.payment_date) AS month,
           count(*) AS payments,
           sum(p.amount) AS revenue
    FROM payment p
    GROUP BY 1;

CREATE VIEW film_list AS
    SELECT f.film_id AS fid,
           f.title,
           f.description,
           string_agg(c.name, ', ' ORDER BY c.name) AS categories,
           f.rental_rate AS price,
           f.length_minutes AS length,
           f.rating,
           f.release_year
    FROM film f
    LEFT JOIN film_category fc ON fc.film_id = f.film_id
    LEFT JOIN category c ON c.category_id = fc.category_id
    GROUP BY f.film_id, f.title, f.description, f.rental_rate, f.length_minutes, f.rating, f.release_year;

CREATE FUNCTION customer_may_rent(c customer, f film) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT f.rating NOT IN ('R', 'NC-17')
        OR (c.birth_date IS NOT NULL AND c.birth_date <= CURRENT_DATE - interval '17 years')
$$;

CREATE FUNCTION search_films(q text) RETURNS SETOF film
    LANGUAGE sql STABLE
AS $$
    SELECT f.*
    FROM film f
    WHERE f.search_vector @@ websearch_to_tsquery('english', q)
    ORDER BY ts_rank(f.search_vector, websearch_to_tsquery('english', q)) DESC
$$;

CREATE FUNCTION film_in_stock(p_film_id integer, p_store_id integer) RETURNS SETOF integer
    LANGUAGE sql STABLE
AS $$
    SELECT i.inventory_id
    FROM inventory i
    WHERE i.film_id = p_film_id AND i.store_id = p_store_id AND inventory_in_stock(i.inventory_id)
$$;

CREATE FUNCTION film_not_in_stock(p_film_id integer, p_store_id integer) RETURNS SETOF integer
    LANGUAGE sql STABLE
AS $$
    SELECT i.inventory_id
    FROM inventory i
    WHERE i.film_id = p_film_id AND i.store_id = p_store_id AND NOT inventory_in_stock(i.inventory_id)
$$;

CREATE VIEW customer_list AS
    SELECT c.customer_id AS id,
           c.first_name || ' ' || c.last_name AS name,
           c.phone,
           c.email,
           s.city,
           CASE WHEN c.active THEN 'active' ELSE '' END AS notes,
           c.store_id AS sid
    FROM customer c
    JOIN store s ON s.store_id = c.store_id;

CREATE TRIGGER last_updated BEFORE UPDATE ON store FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON category FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON film_category FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON inventory FOR EACH ROW EXECUTE FUNCTION last_updated();
CREATE TRIGGER last_updated BEFORE UPDATE ON rental FOR EACH ROW EXECUTE FUNCTION last_updated();

COMMENT ON TABLE store IS 'A physical shop.';
COMMENT ON COLUMN store.manager_staff_id IS 'The staff member who runs the shop.';
COMMENT ON TABLE inventory IS 'One physical copy (tape or disc) of a film, kept at one store.';
COMMENT ON FUNCTION customer_rentals(customer) IS 'Every rental of one customer, newest first.';
COMMENT ON VIEW customer_list IS 'Customer lookup screen of the counter software.';
COMMENT ON COLUMN film.search_vector IS 'Title and description, for search_films().';
