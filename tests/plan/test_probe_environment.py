"""The probes spell desired text the server's way in a scratch schema, in a transaction that is
always rolled back. Where the server will not let them (a role without CREATE on the database)
the plan says so in one sentence instead of showing every text written otherwise than the
server spells it as a change; a default that makes new transactions read-only does not stop
them (the probe writes nothing), so the plan is the same with it as without, with the cache
and without it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.helpers import run_cli

# texts the server spells otherwise (a check gets parentheses, a type its long name): a plan
# needs the probes to see that nothing changed
THINGS = """\
table: things
columns:
  - {name: id, type: int}
  - {name: n, type: int4}
checks:
  - {name: n_positive, expression: "n > 0"}
primary_key: [id]
"""


def _project(tmp_path: Path, pg_url: str) -> list[str]:
    (tmp_path / "schemas" / "tables").mkdir(parents=True)
    (tmp_path / "schemas" / "tables" / "things.yaml").write_text(THINGS)
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    return argv


def _plan(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, *, cache: bool):
    if not cache:
        monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    try:
        return run_cli(
            "plan", "--pg", pg_url, "--schemas", "schemas", "--detailed-exitcode", cwd=tmp_path
        )
    finally:
        monkeypatch.delenv("RECONCILER_NO_CACHE", raising=False)


def test_a_read_only_default_leaves_the_plan_as_it_was(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, pg_url)
    for _ in range(2):  # the second one from the verdict the first one left
        r = _plan(tmp_path, pg_url, monkeypatch, cache=True)
        assert r.code == 0 and "No changes." in r.out, r.text
    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    pg_conn.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    for cache in (True, False, True):
        r = _plan(tmp_path, pg_url, monkeypatch, cache=cache)
        assert r.code == 0 and "No changes." in r.out, (cache, r.text)


def test_a_role_that_may_not_create_the_scratch_schema_gets_one_sentence(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, pg_url)
    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    role = f"r_{uuid.uuid4().hex[:10]}"
    pg_conn.execute(f"CREATE ROLE {role} LOGIN")
    pg_conn.execute(f"GRANT USAGE, CREATE ON SCHEMA reconciler TO {role}")  # the state's
    tables = "ALL TABLES IN SCHEMA reconciler"
    pg_conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}")
    pg_conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA reconciler TO {role}")
    pg_conn.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM PUBLIC')
    try:
        url = make_conninfo(**{**conninfo_to_dict(pg_url), "user": role})
        for cache in (False, True):
            r = _plan(tmp_path, url, monkeypatch, cache=cache)
            assert r.code == 1, (cache, r.text)  # never a plan of made-up changes (exit 2)
            assert f"{role} may not create" in r.err and "CREATE ON DATABASE" in r.err, r.err
            assert "Traceback" not in r.err and "n_positive" not in r.out, r.text
    finally:
        pg_conn.execute(f"DROP OWNED BY {role}")
        pg_conn.execute(f"DROP ROLE {role}")


def test_a_role_that_may_not_use_what_a_probe_needs_gets_one_sentence(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role that may create the scratch schema but not use a schema a desired column's
    type lives in: that table's probe fails for want of a privilege, not for anything in the
    files, and planning on would show its checks and defaults as changes. It says so."""
    (tmp_path / "schemas" / "types").mkdir(parents=True)
    (tmp_path / "schemas" / "types" / "t.yaml").write_text(
        "schemas:\n  - name: t\nenums:\n  - {name: t.status, values: [a, b]}\n"
    )
    (tmp_path / "schemas" / "tables").mkdir(parents=True)
    (tmp_path / "schemas" / "tables" / "things.yaml").write_text(
        THINGS.replace(
            "  - {name: n, type: int4}",
            "  - {name: n, type: int4}\n  - {name: s, type: t.status, default: \"'a'\"}",
        )
    )
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    role = f"r_{uuid.uuid4().hex[:10]}"
    pg_conn.execute(f"CREATE ROLE {role} LOGIN")
    pg_conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO {role}')
    pg_conn.execute(f"GRANT USAGE, CREATE ON SCHEMA reconciler TO {role}")
    tables = "ALL TABLES IN SCHEMA reconciler"
    pg_conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}")
    try:
        url = make_conninfo(**{**conninfo_to_dict(pg_url), "user": role})
        r = _plan(tmp_path, url, monkeypatch, cache=False)
        assert r.code == 1, r.text  # never the made-up drop and re-add of n_positive (exit 2)
        assert f"role {role} lacks a privilege" in r.err and "schema t" in r.err, r.err
        assert f"GRANT USAGE, CREATE ON SCHEMA t TO {role}" in r.err, r.err  # state/privileges
        assert "n_positive" not in r.out, r.text
    finally:
        pg_conn.execute(f"DROP OWNED BY {role}")
        pg_conn.execute(f"DROP ROLE {role}")


ITEMS = """\
table: items
primary_key: [id]
columns:
  - {name: id, type: int}
  - {name: qty, type: integer, default: "1"}
  - {name: total, type: integer, generated: "qty * 2"}
  - {name: label, type: text}
checks:
  - {name: items_qty_positive, expression: "qty > 0"}
policies:
  - {name: visible, command: select, using: "qty > 0"}
"""
ONE = "functions:\n  - {name: one, returns: integer, language: sql, body: SELECT 1}\n"


def test_a_default_calling_what_the_plan_creates_leaves_the_rest_of_its_table_alone(
    tmp_path: Path, pg_url: str
) -> None:
    """A table's probe cannot be built whole when a default calls a function the plan itself
    creates; the generated column and the policy must still be spelled the server's way, or
    the plan drops and re-adds the column (a rewrite, the column moved to the end)."""
    root = tmp_path / "schemas"
    (root / "tables").mkdir(parents=True)
    (root / "tables" / "items.yaml").write_text(ITEMS)
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    assert run_cli("apply", *argv, "--auto-approve", cwd=tmp_path).code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO items (id, qty, label) VALUES (1, 3, 'a')")
    (root / "functions").mkdir()
    (root / "functions" / "one.yaml").write_text(ONE)
    (root / "tables" / "items.yaml").write_text(ITEMS.replace('default: "1"', "default: one()"))

    r = run_cli("plan", *argv, "--out", "plans", "--json", cwd=tmp_path)
    assert r.code == 0, r.text
    changed = sorted(c["address"] for c in json.loads(r.out)["changes"])
    assert changed == ["pg.column.public.items.qty", 'pg.function.public.one.""'], changed
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    with psycopg.connect(pg_url) as conn:
        columns = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"
        ).fetchall()
        assert [c for (c,) in columns] == ["id", "qty", "total", "label"]
        assert conn.execute("SELECT total FROM items").fetchone() == (6,)
