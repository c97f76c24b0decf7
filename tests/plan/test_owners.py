"""Objects the plan drops and creates again come back owned as they were: a SECURITY DEFINER
function must not start running as the role that applied the plan, nor a view read its tables
with that role's rights. Forward (a table rebuilt in a new shape, with a view and a function of
its row type) and back (the rollback)."""

from __future__ import annotations

from tests.helpers import run_cli
from tests.plan.test_rebuilds import _desired

OWNED = """
DO $$ BEGIN CREATE ROLE corpus_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE public.events (id int NOT NULL, kind text NOT NULL){key};
{partitions}
CREATE VIEW public.kinds AS SELECT DISTINCT kind FROM public.events;
CREATE FUNCTION public.of_kind(k text) RETURNS SETOF public.events LANGUAGE sql STABLE
    SECURITY DEFINER AS $$SELECT * FROM public.events WHERE kind = k$$;
ALTER TABLE public.events OWNER TO corpus_owner;
ALTER VIEW public.kinds OWNER TO corpus_owner;
ALTER FUNCTION public.of_kind(text) OWNER TO corpus_owner;
"""

OWNERS = """
SELECT c.relname::text, pg_get_userbyid(c.relowner)::text FROM pg_class c
WHERE c.relname IN ('events', 'kinds') AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT p.proname::text, pg_get_userbyid(p.proowner)::text FROM pg_proc p
WHERE p.proname = 'of_kind'
ORDER BY 1
"""


def test_rebuilt_objects_keep_their_owners_both_ways(
    make_pg_database, pg_url, pg_conn, tmp_path, pg_dump_schema
) -> None:
    pg_conn.execute(OWNED.format(key="", partitions=""))
    before = pg_dump_schema(pg_url)
    owned = [("events", "corpus_owner"), ("kinds", "corpus_owner"), ("of_kind", "corpus_owner")]
    assert pg_conn.execute(OWNERS).fetchall() == owned
    partitioned = OWNED.format(
        key=" PARTITION BY LIST (kind)",
        partitions="CREATE TABLE public.events_a PARTITION OF public.events DEFAULT;",
    )
    desired = _desired(make_pg_database, tmp_path, partitioned)
    args = ("--pg", pg_url, "--schemas", str(desired))
    apply = run_cli("apply", *args, "--auto-approve", cwd=tmp_path)
    assert apply.code == 0, apply.text
    assert pg_conn.execute(OWNERS).fetchall() == owned
    assert run_cli("plan", *args, "--detailed-exitcode", cwd=tmp_path).code == 0
    rollback = run_cli("rollback", "--pg", pg_url, "--last", "--auto-approve", cwd=tmp_path)
    assert rollback.code == 0, rollback.text
    assert pg_conn.execute(OWNERS).fetchall() == owned
    assert pg_dump_schema(pg_url) == before
