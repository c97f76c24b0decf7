"""Objects the model cannot express — unlogged sequences, event triggers, publications,
subscriptions, foreign data wrappers, servers, user mappings, foreign tables — follow one rule:
reported as `unsupported`, never compared, never exported, never dropped, and nothing they
depend on (pg_depend) is dropped or changed in a way that breaks them. A drop the full-state
rule would make is withheld; a change the YAML asks for that would break one is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

# `orders` is managed (declared); everything else here is not, and the scope is the whole
# database: under --allow-destructive an undeclared object is normally dropped.
ORDERS = """\
table: orders
primary_key: [id]
columns:
  - {name: id, type: integer, nullable: false}
  - {name: total, type: numeric}
  - {name: note, type: text}
"""

SETUP = [
    "CREATE TABLE public.orders (id integer PRIMARY KEY, total numeric, note text)",
    "INSERT INTO public.orders VALUES (1, 9.5, 'kept')",
    # a publication over the managed table, its column list reading two of its columns
    "CREATE PUBLICATION pub_orders FOR TABLE public.orders (id, total)",
    # an undeclared table only a publication keeps alive
    "CREATE TABLE public.legacy (id integer PRIMARY KEY)",
    "CREATE PUBLICATION pub_legacy FOR TABLE public.legacy",
    # an unlogged sequence that has handed out values
    "CREATE UNLOGGED SEQUENCE public.scratch START 10",
    "SELECT nextval('public.scratch'), nextval('public.scratch')",
    # an event trigger and the (modelled, undeclared) function it executes
    "CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql "
    "AS $$BEGIN RAISE NOTICE 'ddl'; END$$",
    "CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION public.log_ddl()",
    # one whose function lives in an undeclared schema: the schema stays too
    "CREATE SCHEMA audit",
    "CREATE FUNCTION audit.on_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$",
    "CREATE EVENT TRIGGER on_drop ON sql_drop EXECUTE FUNCTION audit.on_drop()",
    # an undeclared table nothing unmodelled needs: dropped as usual
    "CREATE TABLE public.junk (id integer)",
    # a foreign server needing the (undeclared) extension that provides its wrapper
    "CREATE EXTENSION postgres_fdw",
    "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw "
    "OPTIONS (host '127.0.0.1', dbname 'nowhere')",
    "CREATE USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (user 'nobody')",
    "CREATE FOREIGN TABLE public.remote_items (id integer) SERVER remote",
    # a wrapper with no handler (no extension), its server and a mapping
    "CREATE FOREIGN DATA WRAPPER bare",
    "CREATE SERVER bare_srv FOREIGN DATA WRAPPER bare",
    "CREATE USER MAPPING FOR PUBLIC SERVER bare_srv",
    # a range type ordered by an undeclared collation
    "CREATE COLLATION public.ranged (provider = libc, locale = 'C')",
    "CREATE TYPE public.textspan AS RANGE (subtype = text, collation = public.ranged)",
    # a subscription (never connects)
    "CREATE SUBSCRIPTION sub CONNECTION 'host=127.0.0.1 dbname=nowhere' "
    "PUBLICATION p WITH (connect = false)",
]

REPORTED = {
    "event trigger log_ddl",
    "event trigger on_drop",
    "foreign data wrapper bare",
    "foreign server bare_srv",
    "foreign server remote",
    "foreign table public.remote_items",
    "publication pub_legacy",
    "publication pub_orders",
    "range type public.textspan",
    "subscription sub",
    "unlogged sequence public.scratch",
    "user mapping for PUBLIC on server bare_srv",
}

# What must be exactly as it was, before and after: one line per fact.
CATALOG = """
SELECT 'event trigger ' || evtname || ' ' || evtfoid::regprocedure || ' ' || evtenabled::text
FROM pg_event_trigger
UNION ALL SELECT 'publication ' || pubname || ' ' || coalesce((
    SELECT string_agg(schemaname || '.' || tablename || coalesce(attnames::text, ''), ',')
    FROM pg_publication_tables AS t WHERE t.pubname = p.pubname), '')
FROM pg_publication AS p
UNION ALL SELECT 'subscription ' || subname FROM pg_subscription
UNION ALL SELECT 'fdw ' || fdwname || ' ' || fdwhandler::regproc FROM pg_foreign_data_wrapper
UNION ALL SELECT 'server ' || srvname || ' ' || coalesce(srvoptions::text, '')
FROM pg_foreign_server
UNION ALL SELECT 'mapping ' || srvname || ' ' || usename FROM pg_user_mappings
UNION ALL SELECT 'extension ' || extname FROM pg_extension
UNION ALL SELECT 'collation ' || collname FROM pg_collation
WHERE collnamespace = 'public'::regnamespace
UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname IN ('public', 'audit')
UNION ALL SELECT 'function ' || oid::regprocedure FROM pg_proc
WHERE pronamespace IN ('public'::regnamespace, 'audit'::regnamespace)
UNION ALL SELECT 'relation ' || oid::regclass || ' ' || relkind::text || relpersistence::text
FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname <> 'junk'
UNION ALL SELECT 'sequence scratch ' || last_value FROM public.scratch
UNION ALL SELECT 'column ' || attrelid::regclass || '.' || attname || ' '
    || format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'public.orders'::regclass
    AND attnum > 0 AND NOT attisdropped
ORDER BY 1
"""


def _catalog(pg_url: str) -> list[str]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return [row[0] for row in conn.execute(CATALOG)]


@pytest.fixture
def unmodeled(pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path) -> Iterator[Path]:
    for statement in SETUP:
        pg_conn.execute(statement)
    write_yaml(tmp_path, "schemas/tables/orders.yaml", ORDERS)
    yield tmp_path
    # A database with a subscription cannot be dropped: take it away first, slot-less.
    for statement in (
        "ALTER SUBSCRIPTION sub DISABLE",
        "ALTER SUBSCRIPTION sub SET (slot_name = NONE)",
        "DROP SUBSCRIPTION sub",
    ):
        pg_conn.execute(statement)


def _plan_json(cwd: Path, pg_url: str) -> dict:
    r = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "plans", "--json", cwd=cwd)
    assert r.code == 0, r.text
    return json.loads(r.out)


def _unsupported(plan: dict) -> set[str]:
    return {f"{u['kind']} {u['name']}" for u in plan["unsupported"]}


def test_unmodeled_objects_are_reported_and_neither_they_nor_what_they_need_is_dropped(
    unmodeled: Path, pg_url: str
):
    before = _catalog(pg_url)
    plan = _plan_json(unmodeled, pg_url)
    assert _unsupported(plan) >= REPORTED
    touched = {c["address"] for c in plan["changes"]}
    for kept in (
        "pg.function.public.log_ddl",  # the event trigger executes it
        "pg.function.audit.on_drop",
        "pg.schema.audit",  # where that function lives
        "pg.extension.postgres_fdw",  # the server's wrapper is the extension's
        "pg.sequence.public.scratch",  # unlogged: not modelled, never dropped
        "pg.table.public.legacy",  # a publication publishes it
        "pg.collation.public.ranged",  # a range type sorts by it
        "pg.schema.public",
    ):
        assert not any(a == kept or a.startswith(kept + ".") for a in touched), plan["changes"]
    assert touched == {"pg.table.public.junk"}, plan["changes"]  # the rest goes as usual

    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        "schemas",
        "--out",
        "plans",
        "--allow-destructive",
        "--auto-approve",
        cwd=unmodeled,
    )
    assert r.code == 0, r.text
    assert _catalog(pg_url) == before

    # A re-plan is stable: nothing left to do, the same objects reported.
    again = _plan_json(unmodeled, pg_url)
    assert again["changes"] == [], again["changes"]
    assert _unsupported(again) == _unsupported(plan)


def test_withheld_drops_say_which_unmodeled_object_needs_them(unmodeled: Path, pg_url: str):
    from reconciler.diff.unmodeled import withheld
    from reconciler.introspect.pg.catalog import introspect

    with psycopg.connect(pg_url) as conn:
        live = introspect(conn)
    desired = _desired(unmodeled)
    lines = {f"{f['address']}: {f['message']}" for f in withheld(desired, live)}
    assert any(
        "pg.function.public.log_ddl." in line and "event trigger log_ddl" in line for line in lines
    ), lines
    assert any(
        "pg.extension.postgres_fdw" in line and "foreign server remote" in line for line in lines
    ), lines
    assert any(
        "pg.table.public.legacy" in line and "publication pub_legacy" in line for line in lines
    ), lines
    assert any(
        line.startswith("pg.schema.audit:")
        and "event trigger on_drop" in line
        and "function audit.on_drop()" in line
        for line in lines
    ), lines
    # declared, or needed by nothing unmodelled: not withheld
    assert not any(
        line.startswith(("pg.table.public.junk", "pg.table.public.orders")) for line in lines
    )


def test_plan_output_says_which_drops_are_withheld_and_why(unmodeled: Path, pg_url: str):
    r = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "plans", cwd=unmodeled)
    assert r.code == 0, r.text
    assert "function public.log_ddl() is not dropped: event trigger log_ddl" in r.out, r.out
    findings = {f["address"]: f["message"] for f in _plan_json(unmodeled, pg_url)["findings"]}
    assert "publication pub_legacy" in findings.get("pg.table.public.legacy", ""), findings


def _desired(root: Path):
    from reconciler.desired import load

    return load(root / "schemas").pg


def test_export_writes_no_unmodeled_object_as_a_modelled_one(unmodeled: Path, pg_url: str):
    r = run_cli("export", "--pg", pg_url, "--out", "exported", cwd=unmodeled)
    assert r.code == 0, r.text
    reported = {
        line.split("unsupported:", 1)[1].strip()
        for line in r.err.splitlines()
        if "unsupported:" in line
    }
    assert reported >= REPORTED, r.err
    written = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((unmodeled / "exported").rglob("*.yaml"))
    )
    for name in ("scratch", "remote_items", "pub_orders", "pub_legacy", "bare_srv", "nobody"):
        assert name not in written, name
    # The export plans clean against the database it came from, leaving everything in place.
    before = _catalog(pg_url)
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        "exported",
        "--out",
        "plans",
        "--allow-destructive",
        "--auto-approve",
        cwd=unmodeled,
    )
    assert r.code == 0, r.text
    assert _catalog(pg_url) == before


@pytest.mark.parametrize(
    ("change", "dependent"),
    [
        # the publication's column list reads `total`: neither dropping nor retyping it
        ("  - {name: note, type: text}\n", "publication pub_orders"),
        ("  - {name: total, type: text}\n  - {name: note, type: text}\n", "publication pub_orders"),
    ],
    ids=["drop-column", "retype-column"],
)
def test_a_declared_change_that_would_break_an_unmodeled_object_is_refused(
    unmodeled: Path, pg_url: str, change: str, dependent: str
):
    head = ORDERS.split("  - {name: total")[0]
    write_yaml(unmodeled, "schemas/tables/orders.yaml", head + change)
    before = _catalog(pg_url)
    r = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "plans", cwd=unmodeled)
    assert r.code == 1, r.text
    column = "public.orders.total"
    assert dependent in r.text and column in r.text, r.text
    assert "Traceback" not in r.text
    assert not (unmodeled / "plans").exists() or not list((unmodeled / "plans").glob("*.sql"))
    assert _catalog(pg_url) == before
