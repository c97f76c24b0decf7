"""reconciler.yaml `scope.exclude_schemas`: schemas (names or globs) never read, planned,
dropped or exported; declaring an object in one is an error."""

from __future__ import annotations

import psycopg
import pytest

from reconciler import api
from reconciler.errors import InputError, Refused
from reconciler.introspect.pg.catalog import introspect
from reconciler.project.scope import Scope
from tests.helpers import run_cli, write_yaml

LIVE = """
CREATE TABLE things (id int);
CREATE SCHEMA legacy; CREATE TABLE legacy.old_orders (id int);
CREATE SCHEMA tmp_load; CREATE TABLE tmp_load.batch (id int);
CREATE SCHEMA tmpxload; CREATE TABLE tmpxload.kept (id int);
"""
SCOPE = "version: 1\nscope:\n  exclude_schemas: [legacy, 'tmp_*']\nenvironments: {dev: {}}\n"


def _project(tmp_path, pg_url, config: str | None = SCOPE):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        "table: things\ncolumns: [{name: id, type: int}]\n",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/kept.yaml",
        "table: kept\nschema: tmpxload\ncolumns: [{name: id, type: int}]\n",
    )
    write_yaml(tmp_path / "schemas", "schemas.yaml", "schemas: [{name: tmpxload}]\n")
    if config is not None:
        (tmp_path / "reconciler.yaml").write_text(config)
    return tmp_path


def test_without_a_scope_every_schema_is_planned(pg_url, tmp_path):
    project = _project(tmp_path, pg_url, config=None)
    r = run_cli("plan", "--pg", pg_url, "--out", str(tmp_path / "p"), cwd=project)
    assert r.code == 0, r.text
    assert "pg.table.legacy.old_orders" in r.out and "pg.table.tmp_load.batch" in r.out


def test_excluded_schemas_are_neither_planned_nor_exported(pg_url, tmp_path):
    project = _project(tmp_path, pg_url)
    r = run_cli("plan", "--pg", pg_url, "--out", str(tmp_path / "p"), cwd=project)
    assert r.code == 0 and "No changes" in r.out, r.text  # tmpxload: not matched by tmp_*
    r = run_cli("drift", "--pg", pg_url, cwd=project)
    assert r.code == 0, r.text
    r = run_cli("export", "--pg", pg_url, "--out", str(tmp_path / "exported"), cwd=project)
    assert r.code == 0, r.text
    text = "".join(p.read_text() for p in (tmp_path / "exported").rglob("*.yaml"))
    assert "old_orders" not in text and "batch" not in text and "kept" in text


def test_declaring_an_object_out_of_scope_is_an_error(pg_url, tmp_path):
    project = _project(tmp_path, pg_url)
    write_yaml(
        project / "schemas",
        "tables/old.yaml",
        "table: old_orders\nschema: legacy\ncolumns: [{name: id, type: int}]\n",
    )
    write_yaml(project / "schemas", "schemas.yaml", "schemas: [{name: tmpxload}, {name: legacy}]\n")
    r = run_cli("plan", "--pg", pg_url, cwd=project)
    assert r.code == 1 and "out of scope" in r.err and "legacy.old_orders" in r.err, r.err


def test_a_bad_scope_is_refused_with_its_line(tmp_path):
    (tmp_path / "reconciler.yaml").write_text("version: 1\nscope:\n  exclude_schemas: legacy\n")
    r = run_cli("validate", cwd=tmp_path)
    assert r.code == 1 and "reconciler.yaml:3: exclude_schemas must be a list" in r.err, r.err


def test_globs_become_like_patterns_with_underscores_literal():
    scope = Scope(("tmp_*", "a%b", "x?"))
    assert scope.like_patterns() == ["tmp\\_%", "a\\%b", "x_"]
    assert scope.is_excluded("tmp_load") and not scope.is_excluded("tmpxload")
    with pytest.raises(TypeError):
        Scope("legacy")  # one string is not a list of patterns


# ---------------------------------------------------------------- the library, without the CLI


def _tables(pg_url: str) -> set[str]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'reconciler')"
        ).fetchall()
    return {r[0] for r in rows}


def test_introspection_never_reads_an_excluded_schema(pg_url, tmp_path):
    _project(tmp_path, pg_url)
    with psycopg.connect(pg_url) as conn:
        everything = introspect(conn)
        scoped = introspect(conn, scope=Scope(("legacy", "tmp_*")))
    schemas = {t.schema for t in scoped.tables.values()}
    assert "legacy" in {t.schema for t in everything.tables.values()}
    assert schemas == {"public", "tmpxload"}, schemas


def test_the_api_reads_the_projects_scope_and_never_drops_there(pg_url, tmp_path, monkeypatch):
    project = _project(tmp_path, pg_url)
    monkeypatch.chdir(project)  # the reconciler.yaml a library caller's project has
    result = api.apply(
        pg_url,
        schemas_dir=project / "schemas",
        out_dir=tmp_path / "plans",
        allow_destructive=True,
        drop_mode="drop",
        logs_dir=tmp_path / "logs",
    )
    assert not [str(c.address) for c in result.plan.changes], result.plan.changes
    assert {"legacy.old_orders", "tmp_load.batch"} <= _tables(pg_url)


def test_an_explicit_scope_wins_and_an_empty_one_leaves_nothing_out(pg_url, tmp_path):
    project = _project(tmp_path, pg_url, config=None)  # no reconciler.yaml anywhere
    kept = api.plan(
        pg_url,
        project / "schemas",
        out_dir=None,
        drop_mode="drop",
        scope=Scope(("legacy", "tmp_*")),
    )
    assert not kept.plan.changes
    every = api.plan(pg_url, project / "schemas", out_dir=None, drop_mode="drop", scope=Scope())
    dropped = {str(c.address) for c in every.plan.changes}
    assert {"pg.table.legacy.old_orders", "pg.table.tmp_load.batch"} <= dropped, dropped


def test_the_scope_is_the_projects_of_the_schemas_wherever_the_caller_runs(
    pg_url, tmp_path, monkeypatch
):
    """A library caller (or `reconciler plan --schemas ../proj/schemas`) in another directory
    gets the scope of the project its schemas belong to: nothing excluded is read or dropped."""
    project = _project(tmp_path / "proj", pg_url)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no reconciler.yaml here
    planned = api.plan(pg_url, project / "schemas", out_dir=None, drop_mode="drop")
    assert not planned.plan.changes, [c.address for c in planned.plan.changes]
    result = api.apply(
        pg_url,
        schemas_dir=project / "schemas",
        out_dir=tmp_path / "plans",
        allow_destructive=True,
        drop_mode="drop",
        logs_dir=tmp_path / "logs",
    )
    assert not result.plan.changes
    assert {"legacy.old_orders", "tmp_load.batch"} <= _tables(pg_url)
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(project / "schemas"), cwd=elsewhere)
    assert r.code == 0 and "No changes" in r.out, r.text


def test_a_scope_given_as_a_list_of_patterns_is_taken_and_anything_else_refused(pg_url, tmp_path):
    project = _project(tmp_path, pg_url, config=None)
    kept = api.plan(
        pg_url, project / "schemas", out_dir=None, drop_mode="drop", scope=["legacy", "tmp_*"]
    )
    assert not kept.plan.changes
    with pytest.raises(InputError, match="scope must be a Scope or a list of schema patterns"):
        api.plan(pg_url, project / "schemas", out_dir=None, scope="legacy")


@pytest.mark.parametrize("drop_mode", ["auto", "drop"])
def test_a_drop_that_objects_out_of_scope_read_is_refused(pg_url, tmp_path, drop_mode):
    """An excluded schema's view and foreign key read a table the YAML no longer has: the plan
    is refused, naming them, instead of moving the table to the trash under them (auto) or
    failing at apply (drop). The table, its rows and the excluded objects stay as they were."""
    project = _project(tmp_path, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE public.old_t (id int PRIMARY KEY, v text);"
            "INSERT INTO public.old_t VALUES (1, 'kept');"
            "CREATE VIEW legacy.v AS SELECT id, v FROM public.old_t;"
            "CREATE TABLE legacy.refs (id int REFERENCES public.old_t (id));"
        )
    with pytest.raises(Refused) as refused:
        api.apply(
            pg_url,
            schemas_dir=project / "schemas",
            out_dir=tmp_path / "plans",
            allow_destructive=True,
            drop_mode=drop_mode,
            logs_dir=tmp_path / "logs",
        )
    message = str(refused.value)
    assert "pg.table.public.old_t" in message and "legacy.v" in message, message
    assert "legacy.refs" in message, message
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT v FROM legacy.v").fetchall() == [("kept",)]
    assert "public.old_t" in _tables(pg_url)


def test_drift_still_reports_such_a_table(pg_url, tmp_path):
    project = _project(tmp_path, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE public.old_t (id int);"
            "CREATE VIEW legacy.v AS SELECT id FROM public.old_t;"
        )
    r = run_cli("drift", "--pg", pg_url, "--json", cwd=project)
    assert r.code == 2 and "pg.table.public.old_t" in r.out, r.text
