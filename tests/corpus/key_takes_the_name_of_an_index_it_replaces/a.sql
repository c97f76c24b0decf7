CREATE TABLE public.members (member_no integer, email text, team text);
CREATE UNIQUE INDEX members_pk ON public.members (member_no);
CREATE UNIQUE INDEX members_email_uq ON public.members (lower(email));
CREATE INDEX members_team_key ON public.members (team);
