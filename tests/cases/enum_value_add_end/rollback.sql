CREATE TYPE stage AS ENUM ('draft', 'done', 'archived', 'it''s gone');
CREATE TABLE tasks (
    s stage DEFAULT 'draft'
);
