CREATE TYPE channel AS ENUM ('web', 'shop');
CREATE TABLE orders (
    id integer NOT NULL,
    total numeric,
    code text COLLATE ucs_basic NOT NULL DEFAULT '',
    double_total numeric GENERATED ALWAYS AS (total * 2) STORED,
    note text,
    placed_at timestamptz NOT NULL DEFAULT now(),
    seq bigint GENERATED ALWAYS AS IDENTITY,
    via channel DEFAULT 'web',
    CONSTRAINT orders_pkey PRIMARY KEY (id)
);
COMMENT ON COLUMN orders.note IS 'Free text.';
