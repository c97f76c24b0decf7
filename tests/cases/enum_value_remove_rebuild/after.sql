CREATE TYPE stage AS ENUM ('draft', 'done', 'review');
COMMENT ON TYPE stage IS 'Where a task is.';
CREATE TABLE tasks (
    id integer NOT NULL,
    s stage NOT NULL DEFAULT 'draft',
    history stage[] DEFAULT '{draft}',
    CONSTRAINT tasks_pkey PRIMARY KEY (id),
    CONSTRAINT tasks_s_check CHECK (s <> 'review' OR id > 0)
);
CREATE INDEX idx_tasks_open ON tasks (id) WHERE s <> 'done';
CREATE INDEX idx_tasks_s ON tasks (s);
CREATE TABLE notes (id integer, s stage);
CREATE VIEW open_tasks AS SELECT id, s FROM public.tasks WHERE s <> 'done';
