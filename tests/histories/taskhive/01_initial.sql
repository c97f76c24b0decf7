-- TaskHive: multi-tenant project tracker, first public beta.
-- Every row carries the workspace (tenant) it belongs to.

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'TaskHive application data.';

CREATE TABLE app.tenants (
    id uuid PRIMARY KEY DEFAULT public.gen_random_uuid(),
    name text NOT NULL,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    plan text NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app.users (
    id uuid PRIMARY KEY DEFAULT public.gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    email text NOT NULL,
    display_name text NOT NULL,
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);

CREATE TABLE app.projects (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    name text NOT NULL,
    created_by uuid REFERENCES app.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    archived boolean NOT NULL DEFAULT false
);

CREATE INDEX projects_tenant_id_idx ON app.projects (tenant_id);

CREATE TABLE app.tasks (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    project_id bigint NOT NULL REFERENCES app.projects (id) ON DELETE CASCADE,
    title text NOT NULL,
    description text,
    status text NOT NULL DEFAULT 'open'
        CONSTRAINT tasks_status_check CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    assignee_id uuid REFERENCES app.users (id) ON DELETE SET NULL,
    due_date date,
    estimate_hours integer CHECK (estimate_hours >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tasks_project_id_idx ON app.tasks (project_id);
CREATE INDEX tasks_assignee_id_idx ON app.tasks (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE FUNCTION app.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER tasks_touch_updated_at
    BEFORE UPDATE ON app.tasks
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();
