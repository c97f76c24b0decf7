CREATE TABLE public.a (id integer PRIMARY KEY);
CREATE TABLE public.b (id integer PRIMARY KEY, a_id integer);
ALTER TABLE public.b ADD CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES public.a (id) NOT VALID;
