CREATE TABLE public.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE,
    age integer CHECK (age >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    title varchar(200) NOT NULL,
    body text
);
CREATE INDEX idx_posts_user_id ON public.posts (user_id);
COMMENT ON TABLE public.posts IS 'What users write.';
