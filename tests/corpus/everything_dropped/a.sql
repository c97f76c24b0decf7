CREATE TABLE public.users (id uuid PRIMARY KEY, email text NOT NULL);
CREATE TABLE public.posts (id bigint PRIMARY KEY, user_id uuid REFERENCES public.users (id));
CREATE INDEX idx_posts_user_id ON public.posts (user_id);
CREATE TYPE public.mood AS ENUM ('sad', 'happy');
