CREATE TYPE stage AS ENUM ('draft', 'todo', 'done');
CREATE TABLE tasks (
    s stage DEFAULT 'todo',
    CONSTRAINT tasks_not_todo_check CHECK (s <> 'todo')
);
