CREATE TYPE old_state AS ENUM ('open', 'closed');
CREATE TYPE new_state AS ENUM ('open', 'closed', 'archived');
CREATE TABLE tickets (
    id integer NOT NULL,
    state new_state
);
