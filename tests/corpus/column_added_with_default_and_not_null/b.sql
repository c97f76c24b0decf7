-- New columns go at the end: Postgres appends them (a column in the middle would need the
-- table rebuilt, which Reconciler never does behind the user's back).
CREATE TABLE public.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    plan text NOT NULL DEFAULT 'free',
    score integer DEFAULT 0
);
