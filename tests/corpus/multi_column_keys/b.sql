CREATE TABLE public.tenants (tenant_id integer, id integer, name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE public.members (
    tenant_id integer NOT NULL,
    team_id integer NOT NULL,
    email text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (tenant_id, email),
    FOREIGN KEY (tenant_id, team_id) REFERENCES public.tenants (tenant_id, id) MATCH FULL
);
