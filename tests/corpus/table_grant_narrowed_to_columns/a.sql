DO $$ BEGIN CREATE ROLE corpus_auditor NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE public.payroll (id integer PRIMARY KEY, employee text, salary numeric(10,2));
GRANT SELECT, UPDATE ON public.payroll TO corpus_auditor;
