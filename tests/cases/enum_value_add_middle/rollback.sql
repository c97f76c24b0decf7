CREATE TYPE stage AS ENUM ('new', 'draft', 'review', 'approved', 'done');
