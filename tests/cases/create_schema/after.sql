CREATE SCHEMA sales;
COMMENT ON SCHEMA sales IS 'Everything about selling.';
CREATE TYPE sales.stage AS ENUM ('lead', 'won', 'lost');
CREATE TABLE sales.deals (
    id integer NOT NULL,
    stage sales.stage NOT NULL DEFAULT 'lead',
    amount numeric(12,2),
    CONSTRAINT deals_pkey PRIMARY KEY (id),
    CONSTRAINT deals_amount_check CHECK (amount > 0)
);
COMMENT ON TABLE sales.deals IS 'Open and closed deals.';
CREATE INDEX idx_deals_stage ON sales.deals (stage);
CREATE TABLE sales.deal_notes (
    id integer NOT NULL,
    deal_id integer NOT NULL,
    note text,
    CONSTRAINT deal_notes_pkey PRIMARY KEY (id),
    CONSTRAINT fk_deal_notes_deals FOREIGN KEY (deal_id)
        REFERENCES sales.deals (id) ON DELETE CASCADE
);
