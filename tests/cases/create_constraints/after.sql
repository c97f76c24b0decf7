CREATE TABLE accounts (
    id integer NOT NULL,
    tenant integer NOT NULL,
    email text,
    slot integer,
    balance numeric NOT NULL DEFAULT 0,
    CONSTRAINT accounts_pk PRIMARY KEY (id),
    CONSTRAINT accounts_tenant_email_key UNIQUE (tenant, email),
    CONSTRAINT accounts_slot_uq UNIQUE (tenant, slot) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT accounts_email_slot_nnd UNIQUE NULLS NOT DISTINCT (email, slot),
    CONSTRAINT accounts_slot_key UNIQUE (slot) DEFERRABLE,
    CONSTRAINT accounts_balance_check CHECK (balance >= 0),
    CONSTRAINT accounts_email_lower CHECK (email = lower(email))
);
COMMENT ON CONSTRAINT accounts_pk ON accounts IS 'The key.';
COMMENT ON CONSTRAINT accounts_tenant_email_key ON accounts IS 'One address per tenant.';
COMMENT ON CONSTRAINT accounts_balance_check ON accounts IS 'No overdraft.';
