CREATE TABLE public.measurements (tenant text NOT NULL, at date NOT NULL, v numeric) PARTITION BY RANGE (at);
CREATE TABLE public.measurements_2026 PARTITION OF public.measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.measurements_default PARTITION OF public.measurements DEFAULT;
ALTER TABLE public.measurements ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON public.measurements FOR SELECT USING (tenant = current_user);
