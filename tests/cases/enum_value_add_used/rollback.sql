-- The new value stays (Postgres cannot remove it); the rest is reverted.
CREATE TYPE stage AS ENUM ('draft', 'todo', 'done');
CREATE TABLE tasks (
    s stage DEFAULT 'draft'
);
