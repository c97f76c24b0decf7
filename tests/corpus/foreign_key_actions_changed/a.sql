CREATE TABLE public.parents (id integer PRIMARY KEY);
CREATE TABLE public.children (
    id integer PRIMARY KEY,
    parent_id integer,
    CONSTRAINT fk_children_parents FOREIGN KEY (parent_id) REFERENCES public.parents (id)
);
