-- TaskHive 0.7: naming clean-up before 1.0. app.comments becomes app.task_comments (project
-- comments are coming), users.display_name becomes full_name; the API reads both through
-- the new names.

DO $$ BEGIN CREATE ROLE saas_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE saas_support NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE saas_analytics NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;

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
    email public.citext NOT NULL CONSTRAINT users_email_key UNIQUE,
    full_name text NOT NULL,
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE app.membership_role AS ENUM ('owner', 'admin', 'member', 'guest');

CREATE TABLE app.memberships (
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    role app.membership_role NOT NULL DEFAULT 'member',
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

CREATE INDEX memberships_user_id_idx ON app.memberships (user_id);

COMMENT ON TABLE app.memberships IS 'Which users belong to which workspace, and as what.';

CREATE TABLE app.invitations (
    id uuid PRIMARY KEY DEFAULT public.gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    email public.citext NOT NULL,
    role app.membership_role NOT NULL DEFAULT 'member',
    token_hash bytea NOT NULL UNIQUE,
    invited_by uuid REFERENCES app.users (id) ON DELETE SET NULL,
    expires_at timestamptz NOT NULL DEFAULT now() + interval '7 days',
    accepted_at timestamptz,
    CONSTRAINT invitations_not_owner CHECK (role <> 'owner')
);

CREATE UNIQUE INDEX invitations_open_per_email ON app.invitations (tenant_id, email) WHERE accepted_at IS NULL;

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
    updated_at timestamptz NOT NULL DEFAULT now(),
    position integer NOT NULL DEFAULT 0,
    CONSTRAINT tasks_project_position_key UNIQUE (project_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX tasks_project_id_idx ON app.tasks (project_id);
CREATE INDEX tasks_assignee_id_idx ON app.tasks (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE app.task_comments (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    task_id bigint NOT NULL REFERENCES app.tasks (id) ON DELETE CASCADE,
    author_id uuid REFERENCES app.users (id) ON DELETE SET NULL,
    body text NOT NULL CHECK (length(body) <= 20000),
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at timestamptz
);

CREATE INDEX task_comments_task_id_idx ON app.task_comments (task_id, created_at);

CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'Append-only change history; written by triggers only.';

CREATE TABLE audit.events (
    id bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    tenant_id uuid,
    actor_id uuid,
    table_name text NOT NULL,
    operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    row_id text NOT NULL,
    old_row jsonb,
    new_row jsonb
);

CREATE INDEX events_tenant_occurred_idx ON audit.events (tenant_id, occurred_at DESC);

CREATE FUNCTION audit.record_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_old jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    v_new jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
BEGIN
    INSERT INTO audit.events (tenant_id, actor_id, table_name, operation, row_id, old_row, new_row)
    VALUES (
        coalesce(v_new, v_old) ->> 'tenant_id',
        app.current_user_id(),
        TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
        TG_OP,
        coalesce(v_new, v_old) ->> 'id',
        v_old,
        v_new
    );
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION audit.record_change() IS 'AFTER ROW trigger: one audit.events row per change.';

CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON app.projects
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON app.tasks
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON app.task_comments
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();

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

CREATE FUNCTION app.current_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
AS $$
    SELECT nullif(current_setting('app.tenant_id', true), '')::uuid
$$;

CREATE FUNCTION app.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE
AS $$
    SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

-- SECURITY DEFINER: reads memberships past its own policies (a policy on memberships that
-- queried memberships would recurse).
CREATE FUNCTION app.is_tenant_admin(p_tenant_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM app.memberships m
        WHERE m.tenant_id = p_tenant_id
          AND m.user_id = app.current_user_id()
          AND m.role IN ('owner', 'admin')
    )
$$;

COMMENT ON FUNCTION app.current_tenant_id() IS 'The workspace of the current request (setting app.tenant_id).';

ALTER TABLE app.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.task_comments ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON app.projects
    USING (tenant_id = app.current_tenant_id());

CREATE POLICY member_access ON app.tasks
    USING (
        tenant_id = app.current_tenant_id()
        AND EXISTS (
            SELECT 1 FROM app.memberships m
            WHERE m.tenant_id = tasks.tenant_id AND m.user_id = app.current_user_id()
        )
    );

CREATE POLICY read_in_tenant ON app.task_comments
    FOR SELECT
    USING (tenant_id = app.current_tenant_id());

CREATE POLICY author_writes ON app.task_comments
    FOR ALL
    USING (tenant_id = app.current_tenant_id() AND author_id = app.current_user_id())
    WITH CHECK (tenant_id = app.current_tenant_id() AND author_id = app.current_user_id());

CREATE POLICY same_tenant ON app.memberships
    FOR SELECT
    USING (tenant_id = app.current_tenant_id());

CREATE POLICY admins_manage ON app.memberships
    FOR ALL
    TO saas_app
    USING (tenant_id = app.current_tenant_id() AND app.is_tenant_admin(tenant_id));

GRANT USAGE ON SCHEMA app TO saas_app;
GRANT SELECT ON app.tenants TO saas_app;
GRANT SELECT, INSERT, UPDATE ON app.users TO saas_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.memberships, app.projects, app.tasks, app.task_comments TO saas_app;
GRANT USAGE ON SEQUENCE app.projects_id_seq, app.tasks_id_seq, app.task_comments_id_seq TO saas_app;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;

ALTER TABLE app.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.projects FORCE ROW LEVEL SECURITY;
ALTER TABLE app.tasks FORCE ROW LEVEL SECURITY;
ALTER TABLE app.memberships FORCE ROW LEVEL SECURITY;
ALTER TABLE app.task_comments FORCE ROW LEVEL SECURITY;
ALTER TABLE app.invitations FORCE ROW LEVEL SECURITY;

CREATE POLICY admins_invite ON app.invitations
    FOR ALL
    USING (tenant_id = app.current_tenant_id() AND app.is_tenant_admin(tenant_id))
    WITH CHECK (tenant_id = app.current_tenant_id() AND app.is_tenant_admin(tenant_id));

CREATE FUNCTION app.accept_invitation(p_token text) RETURNS app.memberships
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_inv app.invitations;
    v_member app.memberships;
BEGIN
    SELECT * INTO v_inv
    FROM app.invitations
    WHERE token_hash = public.digest(p_token, 'sha256')
      AND accepted_at IS NULL
      AND expires_at > now()
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invitation not found or expired' USING ERRCODE = 'no_data_found';
    END IF;

    INSERT INTO app.memberships (tenant_id, user_id, role)
    VALUES (v_inv.tenant_id, app.current_user_id(), v_inv.role)
    ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role
    RETURNING * INTO v_member;

    UPDATE app.invitations SET accepted_at = now() WHERE id = v_inv.id;
    RETURN v_member;
END
$$;

REVOKE EXECUTE ON FUNCTION app.accept_invitation(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.accept_invitation(text) TO saas_app;

GRANT SELECT (id, tenant_id, email, role, invited_by, expires_at, accepted_at) ON app.invitations TO saas_app;
GRANT INSERT (tenant_id, email, role, token_hash, invited_by, expires_at) ON app.invitations TO saas_app;
GRANT DELETE ON app.invitations TO saas_app;

GRANT USAGE ON SCHEMA app TO saas_support;
GRANT SELECT ON app.tenants TO saas_support;
GRANT SELECT (id, email, full_name, created_at) ON app.users TO saas_support;
GRANT SELECT ON app.memberships, app.projects TO saas_support;

CREATE VIEW app.my_open_tasks WITH (security_invoker = true) AS
    SELECT t.id,
           t.tenant_id,
           p.name AS project,
           t.title,
           t.status,
           t.due_date,
           t.estimate_hours,
           t.due_date < CURRENT_DATE AS overdue
    FROM app.tasks t
    JOIN app.projects p ON p.id = t.project_id
    WHERE t.assignee_id = app.current_user_id()
      AND t.status IN ('open', 'in_progress');

GRANT SELECT ON app.my_open_tasks TO saas_app;

CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS 'Cross-tenant aggregates for the sales and success teams.';

CREATE MATERIALIZED VIEW reporting.tenant_activity AS
    SELECT tn.id AS tenant_id,
           tn.slug,
           tn.plan,
           (SELECT count(*) FROM app.memberships m WHERE m.tenant_id = tn.id) AS members,
           (SELECT count(*) FROM app.projects p WHERE p.tenant_id = tn.id AND NOT p.archived) AS active_projects,
           (SELECT count(*) FROM app.tasks t WHERE t.tenant_id = tn.id AND t.status IN ('open', 'in_progress')) AS open_tasks,
           (SELECT coalesce(sum(t.estimate_hours), 0) FROM app.tasks t
             WHERE t.tenant_id = tn.id AND t.status IN ('open', 'in_progress')) AS open_estimate_hours,
           (SELECT max(t.updated_at) FROM app.tasks t WHERE t.tenant_id = tn.id) AS last_activity
    FROM app.tenants tn;

CREATE UNIQUE INDEX tenant_activity_tenant_id_idx ON reporting.tenant_activity (tenant_id);

CREATE FUNCTION reporting.refresh_tenant_activity() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY reporting.tenant_activity;
END
$$;

REVOKE EXECUTE ON FUNCTION reporting.refresh_tenant_activity() FROM PUBLIC;

GRANT USAGE ON SCHEMA reporting TO saas_analytics;
GRANT SELECT ON reporting.tenant_activity TO saas_analytics;
GRANT EXECUTE ON FUNCTION reporting.refresh_tenant_activity() TO saas_analytics;
