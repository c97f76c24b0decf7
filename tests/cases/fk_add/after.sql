CREATE SCHEMA hr;
CREATE TABLE hr.depts (
    id integer NOT NULL,
    head_id integer,
    CONSTRAINT depts_pkey PRIMARY KEY (id)
);
CREATE TABLE staff (
    id integer NOT NULL,
    dept_id integer,
    mentor_id integer,
    site text,
    desk integer,
    CONSTRAINT staff_pkey PRIMARY KEY (id)
);
CREATE TABLE desks (
    site text NOT NULL,
    num integer NOT NULL,
    CONSTRAINT desks_pkey PRIMARY KEY (site, num)
);
ALTER TABLE hr.depts ADD CONSTRAINT fk_depts_staff FOREIGN KEY (head_id)
    REFERENCES staff (id) ON DELETE SET NULL;
ALTER TABLE staff ADD CONSTRAINT fk_staff_depts FOREIGN KEY (dept_id)
    REFERENCES hr.depts (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE staff ADD CONSTRAINT fk_staff_staff FOREIGN KEY (mentor_id) REFERENCES staff (id);
COMMENT ON CONSTRAINT fk_staff_staff ON staff IS 'Self reference.';
ALTER TABLE staff ADD CONSTRAINT fk_staff_desks FOREIGN KEY (site, desk)
    REFERENCES desks (site, num) MATCH FULL ON UPDATE CASCADE;
