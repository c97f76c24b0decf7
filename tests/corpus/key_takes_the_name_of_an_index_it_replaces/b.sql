CREATE TABLE public.members (member_no integer, email text, team text);
ALTER TABLE public.members ADD CONSTRAINT members_pk PRIMARY KEY (member_no);
ALTER TABLE public.members ADD CONSTRAINT members_email_uq UNIQUE (email);
ALTER TABLE public.members ADD CONSTRAINT members_team_key UNIQUE (team, member_no);
