-- The example project of schemas/, written by hand: what `apply` must produce.
CREATE EXTENSION pgcrypto;
CREATE TYPE run_status AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');
COMMENT ON TYPE run_status IS 'Lifecycle of a run.';

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CONSTRAINT users_email_check CHECK (email <> ''),
    display_name varchar(100),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE users IS 'People who can start runs.';
COMMENT ON COLUMN users.email IS 'Login e-mail address, unique case-insensitively.';
COMMENT ON CONSTRAINT users_email_check ON users IS 'An e-mail address is never blank.';
CREATE UNIQUE INDEX idx_users_email ON users (lower(email));
COMMENT ON INDEX idx_users_email IS 'One account per e-mail address, whatever its case.';

CREATE TABLE runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    status run_status NOT NULL DEFAULT 'queued',
    attempt integer NOT NULL DEFAULT 1 CONSTRAINT runs_attempt_check CHECK (attempt > 0),
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT runs_finished_after_start_check
        CHECK (finished_at IS NULL OR finished_at >= started_at),
    CONSTRAINT fk_runs_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
COMMENT ON TABLE runs IS 'One execution of a pipeline, started by a user.';
CREATE INDEX idx_runs_user_id ON runs (user_id);
CREATE INDEX idx_runs_status_created_at ON runs (status, created_at DESC)
    WHERE status IN ('queued', 'running');
COMMENT ON INDEX idx_runs_status_created_at IS 'The scheduler''s queue scan.';

CREATE TABLE audit_logs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid CONSTRAINT fk_audit_logs_users REFERENCES users (id) ON DELETE SET NULL,
    run_id uuid CONSTRAINT fk_audit_logs_runs REFERENCES runs (id) ON DELETE CASCADE,
    action varchar(64) NOT NULL CONSTRAINT audit_logs_action_check CHECK (action <> ''),
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit_logs IS 'Who did what, and to which run.';
COMMENT ON COLUMN audit_logs.user_id IS 'Null for actions taken by the system.';
CREATE INDEX idx_audit_logs_user_id ON audit_logs (user_id);
CREATE INDEX idx_audit_logs_run_id ON audit_logs (run_id);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at DESC);
