"""Row-level security from YAML: enabled and forced, policies for PUBLIC and a named role,
compared in the server's spelling, enforced, rolled back exactly."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

TABLE = """
table: documents
schema: app
columns:
  - {name: id, type: integer, nullable: false}
  - {name: owner, type: text, nullable: false}
  - {name: public, type: boolean, nullable: false, default: "false"}
primary_key: [id]
row_security: forced
policies:
  - name: read_public
    command: select
    using: public OR owner = current_user
  - name: reader_sees_all
    command: select
    roles: [ROLE]
    using: "true"
  - name: no_empty_owner
    command: insert
    permissive: false
    check: owner <> ''
    comment: Every row has an owner.
"""


@pytest.fixture
def role(pg_conn: psycopg.Connection):
    name = f"r_{uuid.uuid4().hex[:10]}"
    pg_conn.execute(f"CREATE ROLE {name} NOLOGIN")
    yield name
    pg_conn.execute(f"DROP OWNED BY {name}")
    pg_conn.execute(f"DROP ROLE {name}")


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_row_security_and_policies(pg_url, pg_conn, tmp_path, role, pg_dump_schema):
    before = pg_dump_schema(pg_url)
    root = tmp_path / "schemas"
    write_yaml(root, "tables/documents.yaml", TABLE.replace("ROLE", role))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    plan = json.loads(r.out)
    assert {c["address"] for c in plan["changes"]} >= {
        "pg.policy.app.documents.read_public",
        "pg.policy.app.documents.reader_sees_all",
        "pg.policy.app.documents.no_empty_owner",
    }
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    # the server prints `owner = CURRENT_USER` and `'' ::text`: the probe asked for its text
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    row = pg_conn.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE oid = 'app.documents'::regclass"
    ).fetchone()
    assert row == (True, True)
    pg_conn.execute("INSERT INTO app.documents VALUES (1, 'someone', false), (2, 'x', true)")
    pg_conn.execute(f"GRANT USAGE ON SCHEMA app TO {role}, PUBLIC")
    pg_conn.execute(f"GRANT SELECT ON app.documents TO {role}, PUBLIC")
    with pg_conn.transaction(force_rollback=True):
        pg_conn.execute(f"SET LOCAL ROLE {role}")
        assert pg_conn.execute("SELECT count(*) FROM app.documents").fetchone() == (2,)
    pg_conn.execute("REVOKE ALL ON app.documents FROM PUBLIC")
    pg_conn.execute(f"REVOKE ALL ON app.documents FROM {role}")
    pg_conn.execute(f"REVOKE ALL ON SCHEMA app FROM {role}, PUBLIC")
    pg_conn.execute("TRUNCATE app.documents")

    write_yaml(root, "tables/documents.yaml", TABLE.replace("ROLE", role).replace("forced", "on"))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    assert [c["address"] for c in json.loads(r.out)["changes"]] == ["pg.table.app.documents"]
    # no longer forced: the owner is past every policy, gated (tests/safety/test_access_widened)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve",
         "--allow-destructive")  # fmt: skip
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_policy_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "policies:\n"
        "  - {name: a, command: select, check: id > 0}\n"
        "  - {name: b, command: insert, using: id > 0}\n"
        "  - {name: c, using: 'true) TO PUBLIC; DROP TABLE t; --'}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "t.yaml:4" in r.err and "select policy has no `check`" in r.err
    assert "t.yaml:5" in r.err and "insert policy has no `using`" in r.err
    assert "t.yaml:6" in r.err
