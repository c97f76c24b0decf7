"""Least privilege: apply works for a role that owns the database but is not superuser; a role
without the privilege gets one sentence naming it, and nothing changes; the state schema is
not writable by other roles."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from reconciler.state.postgres import PgState
from tests.helpers import run_cli
from tests.reliability.project import write_project

FAMILY = "Least privilege"


@pytest.fixture
def roles(pg_server, make_pg_database):
    """(database URL as its owner, URL as a role that may only connect, URL as superuser)."""
    suffix = uuid.uuid4().hex[:8]
    owner, weak = f"owner_{suffix}", f"weak_{suffix}"
    url = make_pg_database()
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{owner}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute(f'CREATE ROLE "{weak}" LOGIN NOSUPERUSER')
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO "{owner}"')
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO "{weak}"')
    as_role = lambda role: url.replace("postgresql://postgres@", f"postgresql://{role}@")  # noqa: E731
    yield as_role(owner), as_role(weak), url
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{owner}"')
        conn.execute(f'DROP ROLE IF EXISTS "{weak}"')


def test_the_database_owner_applies_without_superuser(roles, tmp_path, outcomes):
    owner, _, _ = roles
    with psycopg.connect(owner) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (False,)
    schemas = write_project(tmp_path, tables=4, redis_keys=False)
    r = run_cli("apply", "--pg", owner, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    r = run_cli(
        "plan", "--pg", owner, "--schemas", str(schemas), "--out", str(tmp_path / "p"), cwd=tmp_path
    )
    assert r.code == 0 and "No changes" in r.out, r.text
    r = run_cli("rollback", "--pg", owner, "--last", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    outcomes.add(
        "apply, re-plan, rollback as the database owner (not superuser)", "worked", family=FAMILY
    )


def test_a_role_without_the_privilege_is_told_which_and_nothing_changes(roles, tmp_path, outcomes):
    _, weak, superuser = roles
    schemas = write_project(tmp_path, tables=2, redis_keys=False)
    r = run_cli("apply", "--pg", weak, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path)
    assert r.code == 1, r.text
    assert "Traceback" not in r.text
    assert "permission denied" in r.err and ("schema" in r.err or "database" in r.err), r.err
    with psycopg.connect(superuser) as conn:
        n = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert n == (0,)
    outcomes.add(
        "apply by a role that may only connect", "refused naming the privilege", family=FAMILY
    )


def test_the_state_schema_is_not_writable_by_other_roles(roles, tmp_path, outcomes):
    owner, weak, _ = roles
    schemas = write_project(tmp_path, tables=1, redis_keys=False)
    r = run_cli("apply", "--pg", owner, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    attacks = {
        "insert a forged apply": "INSERT INTO reconciler.applies (version) VALUES ('2999')",
        "delete the history": "DELETE FROM reconciler.applies",
        "rewrite the inventory": "UPDATE reconciler.inventory SET definition = '{}'",
        "create an object in it": "CREATE TABLE reconciler.planted (id int)",
        "drop it": "DROP SCHEMA reconciler CASCADE",
    }
    for what, statement in attacks.items():
        with psycopg.connect(weak, autocommit=True) as conn, pytest.raises(psycopg.Error) as denied:
            conn.execute(statement)
        assert isinstance(
            denied.value, psycopg.errors.InsufficientPrivilege | psycopg.errors.UndefinedTable
        ), (what, denied.value)
        outcomes.add("another role writing the state schema", f"{what}: denied", family=FAMILY)
    with psycopg.connect(owner, autocommit=True) as conn:
        assert len(PgState(conn).history()) == 1
