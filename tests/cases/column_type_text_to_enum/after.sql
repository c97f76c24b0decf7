CREATE TYPE priority AS ENUM ('low', 'high');
CREATE TYPE ticket_status AS ENUM ('new', 'open', 'closed');
CREATE TABLE tickets (
    id integer NOT NULL,
    status ticket_status NOT NULL DEFAULT 'new',
    prio text,
    CONSTRAINT tickets_pkey PRIMARY KEY (id)
);
