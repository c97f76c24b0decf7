"""The remembered "no changes" verdict of a Postgres plan: used only for the very files and the
very catalog it was computed from, and never in the way of a change on either side."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml

from reconciler.desired import read_tree
from reconciler.introspect.pg.catalog import read_catalog
from reconciler.pipeline.tree_plan import NO_CHANGES
from reconciler.project import cache
from tests.helpers import run_cli

USERS = {
    "table": "users",
    "columns": [
        {"name": "id", "type": "uuid", "nullable": False},
        {"name": "email", "type": "text"},
    ],
    "primary_key": {"columns": ["id"]},
}


def _write(root: Path, data: dict) -> None:
    path = root / "tables" / "users.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _plan(pg_url: str, root: Path, cwd: Path) -> str:
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "plans", cwd=cwd)
    assert r.code == 0, r.text
    return r.out


def _tree_key(root: Path, cwd: Path) -> str:
    import os

    old = os.getcwd()
    os.chdir(cwd)  # the desired key covers the working directory, as the CLI sees it
    try:
        tree_key = read_tree(root).key
    finally:
        os.chdir(old)
    assert tree_key is not None
    return tree_key


def _verdict_key(conn: psycopg.Connection, root: Path, cwd: Path) -> str:
    tree_key = _tree_key(root, cwd)
    return cache.key("plan", tree_key, read_catalog(conn).digest(), repr(()))  # no scope


def test_an_unchanged_plan_is_answered_from_the_verdict(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _write(root, USERS)
    assert "users" in _plan(pg_url, root, tmp_path)  # to create
    # Plant "no changes" for exactly these files and this (empty) catalog: the next plan
    # believing it proves the verdict is read, and nothing else is.
    cache.put(_verdict_key(pg_conn, root, tmp_path), NO_CHANGES)
    assert "No changes." in _plan(pg_url, root, tmp_path)


def test_a_catalog_or_file_change_after_a_no_op_plan_is_always_planned(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _write(root, USERS)
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    for _ in range(2):  # the second one is answered from the verdict the first left
        assert "No changes." in _plan(pg_url, root, tmp_path)

    pg_conn.execute("ALTER TABLE public.users ADD COLUMN nickname text")  # out of band
    assert "nickname" in _plan(pg_url, root, tmp_path)
    pg_conn.execute("ALTER TABLE public.users DROP COLUMN nickname")
    assert "No changes." in _plan(pg_url, root, tmp_path)

    pg_conn.execute("COMMENT ON TABLE public.users IS 'set by hand'")  # a value, not a shape
    assert "comment: set by hand → (none)" in _plan(pg_url, root, tmp_path)
    pg_conn.execute("COMMENT ON TABLE public.users IS NULL")

    _write(root, {**USERS, "comment": "now declared"})
    assert "comment: (none) → now declared" in _plan(pg_url, root, tmp_path)


def test_the_catalog_digest_does_not_depend_on_row_order(pg_conn, pg_url):
    from dataclasses import replace

    pg_conn.execute("CREATE TABLE a (x integer, y text); CREATE TABLE b (z integer)")
    rows = read_catalog(pg_conn)
    shuffled = {kind: list(reversed(r)) for kind, r in rows.rows.items()}
    assert len(rows.rows["columns"]) >= 3
    assert replace(rows, rows=shuffled).digest() == rows.digest()
    pg_conn.execute("ALTER TABLE b ADD COLUMN w integer")
    assert read_catalog(pg_conn).digest() != rows.digest()


def test_the_catalog_digest_tells_values_and_types_apart_in_any_row_order():
    """Rows marshal cannot write go through repr; either way the row order does not count,
    and rows that differ only in a value's type, or in where one row ends, do not collide."""
    from dataclasses import replace
    from decimal import Decimal

    from reconciler.introspect.pg.catalog import KINDS, CatalogRows

    def digest(**kinds: list) -> str:
        return CatalogRows({kind: kinds.get(kind, []) for kind in KINDS}, 150000).digest()

    rows = [("a", 1, None, ["x", "y"], {"k": True}), ("b", 2, False, [], {})]
    assert digest(tables=rows) == digest(tables=rows[::-1])
    assert digest(tables=rows) != digest(columns=rows)
    assert digest(tables=[("1",)]) != digest(tables=[(1,)])
    assert digest(tables=[(True,)]) != digest(tables=[(1,)])
    assert digest(tables=[("a\n", "b")]) != digest(tables=[("a",), ("b",)])
    odd = [(Decimal("1.0"), "x"), (Decimal("2"), "y")]
    assert digest(tables=odd) == digest(tables=odd[::-1])
    assert digest(tables=odd) != digest(tables=[(Decimal("1.00"), "x"), odd[1]])
    base = CatalogRows({kind: [] for kind in KINDS}, 150000)
    assert replace(base, server_version=160000).digest() != base.digest()


def test_an_unchanged_plan_says_the_lint_findings_without_loading_the_files(
    pg_url, tmp_path, monkeypatch
):
    """The findings of unchanged files are remembered with them: every plan shows them, and
    the one answered from the verdict neither parses nor unpickles the desired state."""
    import reconciler.desired as desired_mod
    from reconciler.pipeline import tree_plan

    root = tmp_path / "schemas"
    _write(root, {**USERS, "table": "user_record"})  # singular: a naming finding
    first = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "p", cwd=tmp_path)
    assert first.code == 0, first.text
    apply = run_cli("apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve", cwd=tmp_path)
    assert apply.code == 0, apply.text
    settle = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "p", cwd=tmp_path)
    assert "No changes." in settle.out, settle.text  # fills the verdict

    loads = []
    for module in (desired_mod, tree_plan):
        name = "load" if module is desired_mod else "load_desired"
        monkeypatch.setattr(module, name, lambda tree: loads.append(tree) or 1 / 0)
    again = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "p", cwd=tmp_path)
    assert again.code == 0, again.text
    assert "No changes." in again.out
    assert "lint warning" in again.err and "lint warning" in first.err, first.err
    assert loads == []


def test_the_switch_interval_is_short_only_while_the_files_are_read(pg_url, tmp_path, monkeypatch):
    """The catalog thread gets the interpreter lock back quickly while the files are parsed
    (tree_plan._SWITCH_S), and every plan, a failed one too, leaves the interval as it was."""
    import sys

    import reconciler.desired as desired_mod
    from reconciler.pipeline import tree_plan

    root = tmp_path / "schemas"
    _write(root, USERS)
    real_load, seen = desired_mod.load, []

    def load(tree):
        seen.append(sys.getswitchinterval())
        return real_load(tree)

    monkeypatch.setattr(tree_plan, "load_desired", load)
    before = sys.getswitchinterval()
    assert before > tree_plan._SWITCH_S
    assert "users" in _plan(pg_url, root, tmp_path)
    assert seen and seen[0] == tree_plan._SWITCH_S
    assert sys.getswitchinterval() == before

    (root / "tables" / "users.yaml").write_text("table: [unclosed\n", encoding="utf-8")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "plans", cwd=tmp_path)
    assert r.code != 0 and "users.yaml:" in r.err, r.text
    assert sys.getswitchinterval() == before


def test_with_the_cache_off_no_catalog_digest_is_worked_out(pg_url, tmp_path, monkeypatch):
    """RECONCILER_NO_CACHE=1: no verdict is looked up or stored, so the digest of the catalog
    (a whole pass over its rows) is not computed; the plan is the same."""
    from reconciler.introspect.pg.catalog import CatalogRows

    root = tmp_path / "schemas"
    _write(root, USERS)
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    monkeypatch.setattr(CatalogRows, "digest", lambda self: 1 / 0)
    assert "users" in _plan(pg_url, root, tmp_path)
    monkeypatch.delenv("RECONCILER_NO_CACHE")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "plans", cwd=tmp_path)
    assert r.code != 0 and "ZeroDivisionError" in r.text  # with the cache on it is


def _plans_agree(pg_url: str, root: Path, cwd: Path, monkeypatch) -> str:
    """The plan's text with the cache on, checked against the same plan with it off."""
    cached = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "plans", cwd=cwd)
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    fresh = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", "plans", cwd=cwd)
    monkeypatch.delenv("RECONCILER_NO_CACHE")
    assert (cached.code, "No changes." in cached.out) == (fresh.code, "No changes." in fresh.out)
    return cached.out


def test_a_change_only_a_probe_sees_is_never_answered_from_the_verdict(
    pg_url, pg_conn, tmp_path, monkeypatch
):
    """A view of a table in an excluded schema, and one of a foreign table: no kind of the
    catalog reads their columns, but the probe spelling the desired view does. A column added
    to either after a no-op plan is planned, with the cache as without it."""
    pg_conn.execute(
        "CREATE SCHEMA legacy; CREATE TABLE legacy.t (a int, b int);"
        " CREATE VIEW public.v AS SELECT * FROM legacy.t;"
        " CREATE FOREIGN DATA WRAPPER probe_fdw; CREATE SERVER probe_srv FOREIGN DATA WRAPPER"
        " probe_fdw; CREATE FOREIGN TABLE public.ft (a int) SERVER probe_srv;"
        " CREATE VIEW public.fv AS SELECT * FROM public.ft"
    )
    (tmp_path / "reconciler.yaml").write_text("version: 1\nscope:\n  exclude_schemas: [legacy]\n")
    views = tmp_path / "schemas" / "views"
    views.mkdir(parents=True)
    (views / "v.yaml").write_text(
        "views:\n  - name: v\n    query: SELECT * FROM legacy.t\n"
        "  - name: fv\n    query: SELECT * FROM public.ft\n"
    )
    root = tmp_path / "schemas"
    for change in (
        "ALTER TABLE legacy.t ADD COLUMN c int",
        "ALTER FOREIGN TABLE public.ft ADD COLUMN z int",
    ):
        for _ in range(2):  # the second one from the verdict the first one left
            assert "No changes." in _plans_agree(pg_url, root, tmp_path, monkeypatch)
        pg_conn.execute(change)
        assert "No changes." not in _plans_agree(pg_url, root, tmp_path, monkeypatch), change
        # the desired view now reads the new column too: the next round starts from no changes
        pg_conn.execute("DROP VIEW public.v, public.fv")
        pg_conn.execute("CREATE VIEW public.v AS SELECT * FROM legacy.t")
        pg_conn.execute("CREATE VIEW public.fv AS SELECT * FROM public.ft")


def test_a_plan_during_which_the_catalog_changed_is_not_remembered(
    pg_url, pg_conn, tmp_path, monkeypatch
):
    """The probes run after the catalog read: DDL committed in between may reach the plan but
    not the digest, so the verdict of such a plan is not kept."""
    from reconciler.pipeline import tree_plan

    root = tmp_path / "schemas"
    _write(root, USERS)
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    read, real_plan = [], tree_plan.make_plan
    real_both, real_catalog = tree_plan._catalog_and_files, tree_plan._catalog

    def catalog_and_files(*args, **kwargs):
        rows, want = real_both(*args, **kwargs)
        read.append(rows.digest())
        return rows, want

    def catalog(*args, **kwargs):
        rows = real_catalog(*args, **kwargs)
        read.append(rows.digest())
        return rows

    def make_plan(*args, **kwargs):  # between the read and the probes: a column that stays
        pg_conn.execute("ALTER TABLE public.users ADD COLUMN x int")  # (dropped, its row is
        pg_conn.execute("ALTER TABLE public.users DROP COLUMN x")  # kept) but is read by none
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(tree_plan, "_catalog_and_files", catalog_and_files)
    monkeypatch.setattr(tree_plan, "_catalog", catalog)
    monkeypatch.setattr(tree_plan, "make_plan", make_plan)
    assert "No changes." in _plan(pg_url, root, tmp_path)
    monkeypatch.setattr(tree_plan, "make_plan", real_plan)
    assert "No changes." in _plan(pg_url, root, tmp_path)  # an undisturbed plan is remembered
    tree_key = _tree_key(root, tmp_path)
    first, second = (cache.key("plan", tree_key, digest, repr(())) for digest in read)
    assert first != second  # the catalog changed
    assert (cache.get(first), cache.get(second)) == (None, NO_CHANGES)


def test_the_digest_covers_an_event_trigger_turned_on_or_off(pg_conn):
    """An event trigger fires on the probes' own DDL: whether it is enabled is part of the
    digest (the fingerprint kind), though no other kind reads event triggers."""
    pg_conn.execute(
        "CREATE FUNCTION public.et_noop() RETURNS event_trigger LANGUAGE plpgsql AS"
        " $$BEGIN END$$; CREATE EVENT TRIGGER et_noop ON ddl_command_end"
        " EXECUTE FUNCTION public.et_noop(); ALTER EVENT TRIGGER et_noop DISABLE"
    )
    try:
        off = read_catalog(pg_conn).digest()
        assert read_catalog(pg_conn).digest() == off  # nothing changed: the same digest
        pg_conn.execute("ALTER EVENT TRIGGER et_noop ENABLE")
        assert read_catalog(pg_conn).digest() != off
    finally:
        pg_conn.execute("DROP EVENT TRIGGER et_noop")


def test_a_no_op_plan_with_findings_is_remembered_with_them(pg_url, tmp_path, monkeypatch):
    """A plan's findings (here: PUBLIC's USAGE on an enum, which Postgres grants and the files
    do not name) come from the same inputs as its changes: a no-op plan that has some is
    remembered with them, and the next one says them without planning again."""
    from reconciler.pipeline import tree_plan

    root = tmp_path / "schemas"
    (root / "types").mkdir(parents=True)
    (root / "types" / "mood.yaml").write_text("enums:\n  - name: mood\n    values: [ok, sad]\n")
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    first = _plan(pg_url, root, tmp_path)
    assert "No changes." in first and "USAGE" in first, first
    monkeypatch.setattr(tree_plan, "make_plan", lambda *a, **k: 1 / 0)  # must not plan
    again = _plan(pg_url, root, tmp_path)
    assert again == first


def _fresh_digest(pg_url: str) -> str:
    """The catalog digest as a new run's connection reads it (session settings are read when
    a session starts)."""
    from reconciler.connect import connect_pg

    with connect_pg(pg_url, command="plan") as conn:
        return read_catalog(conn).digest()


def test_the_digest_covers_the_settings_of_the_session_however_they_were_set(
    pg_url, pg_conn, monkeypatch
):
    """A setting the probes run under (ALTER DATABASE / ROLE … SET, ALTER SYSTEM and a
    reload, PGOPTIONS) may change how the server spells desired text, and no catalog row of
    the database shows it: the digest does."""
    before = _fresh_digest(pg_url)
    assert _fresh_digest(pg_url) == before  # a new session alone changes nothing
    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    pg_conn.execute(f'ALTER DATABASE "{database}" SET check_function_bodies = off')
    assert _fresh_digest(pg_url) != before
    pg_conn.execute(f'ALTER DATABASE "{database}" RESET check_function_bodies')
    assert _fresh_digest(pg_url) == before
    monkeypatch.setenv("PGOPTIONS", "-c check_function_bodies=off")
    assert _fresh_digest(pg_url) != before


def test_the_digest_covers_the_servers_date_and_start(pg_conn):
    """'today'::date in a default is spelled as that day's date by the probe: a verdict holds
    for the server's day (UTC) it was made on, and for its run since its last start (a tzdata
    update or a new version comes with a restart)."""
    rows = {row[0]: row[1:] for row in read_catalog(pg_conn).rows["fingerprint"]}
    days, started = pg_conn.execute(
        "SELECT (now() AT TIME ZONE 'UTC')::date - date '2000-01-01',"
        " extract(epoch FROM pg_postmaster_start_time())::int8"
    ).fetchone()
    assert rows["clock"] == (days, started)


def test_a_plan_whose_probes_load_a_library_is_still_remembered(pg_url, tmp_path):
    """The plan's probes create PL/pgSQL functions (the syntax check of an older server, a
    desired PL/pgSQL function): loading PL/pgSQL adds its settings to the session. The read
    taken after the plan, which decides whether the verdict is kept, must still equal the
    first, or no plan is ever answered from the verdict."""
    root = tmp_path / "schemas"
    stamped = {**USERS, "columns": [*USERS["columns"], {"name": "at", "type": "timestamptz"}]}
    stamped["columns"][-1]["default"] = "now()"  # an expression: the server is asked to parse it
    _write(root, stamped)
    fn = root / "functions" / "f.yaml"
    fn.parent.mkdir(parents=True)
    fn.write_text(
        "functions:\n  - name: one\n    returns: integer\n    language: plpgsql\n"
        "    body: BEGIN RETURN 1; END\n"
    )
    argv = ["--pg", pg_url, "--schemas", str(root)]
    assert run_cli("apply", *argv, "--auto-approve", cwd=tmp_path).code == 0
    assert "No changes." in _plan(pg_url, root, tmp_path)  # planned in full, then remembered
    key = cache.key("plan", _tree_key(root, tmp_path), _fresh_digest(pg_url), repr(()))
    found = cache.get(key)
    assert found is not None, "the verdict was not kept"
    assert found == NO_CHANGES or found[0] == NO_CHANGES  # with the plan's findings


def test_the_switch_interval_is_put_back_once_overlapping_plans_end_however_they_end():
    """Plans in threads of one process overlap: each saved the interval and put its own copy
    back, so the one that ended last left 1 ms for good (a later test saw 0.001). The interval
    is now the process's until the last overlapping block ends, an interrupted one too."""
    import sys

    from reconciler.pipeline.tree_plan import _SWITCH_S, short_switch

    before = sys.getswitchinterval()
    assert before > _SWITCH_S
    first, second = short_switch(), short_switch()
    first.__enter__()
    second.__enter__()
    assert sys.getswitchinterval() == _SWITCH_S
    first.__exit__(None, None, None)  # the first ends while the second still reads
    assert sys.getswitchinterval() == _SWITCH_S
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
    with pytest.raises(KeyboardInterrupt), short_switch():
        raise KeyboardInterrupt
    assert sys.getswitchinterval() == before


def test_the_catalog_takes_a_second_connection_only_when_the_files_are_not_parsed_meanwhile(
    pg_url, pg_conn, tmp_path, monkeypatch
):
    """While the files are parsed (a first plan of them) the catalog is read on one connection,
    which leaves the other core to the parse; once their load is remembered the plan waits on
    the catalog alone, and two connections read it."""
    from reconciler.introspect.pg import catalog

    pg_conn.execute("CREATE TABLE public.users (id uuid PRIMARY KEY, email text)")
    root = tmp_path / "schemas"
    _write(root, USERS)
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))  # nothing in it yet
    siblings, real = [], catalog.read_catalog

    def read(conn, **kwargs):
        siblings.append(kwargs.get("sibling") is not None)
        return real(conn, **kwargs)

    monkeypatch.setattr(catalog, "read_catalog", read)
    for _ in range(2):
        assert "No changes." in _plan(pg_url, root, tmp_path)
    assert siblings == [False, True]
