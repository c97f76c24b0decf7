"""A role short of a privilege is told which privilege, on what, and the GRANT that fixes it,
checked with a real role of the test database (never "permission denied for schema …" alone)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

ROLE = "app_ro_errs"
TAGS = "table: tags\ncolumns:\n  - {name: id, type: integer, nullable: false}\n"


@pytest.fixture
def as_role(pg_url: str, pg_conn: psycopg.Connection) -> Iterator[str]:
    """A URL of `pg_url`'s database for a login role owning nothing and allowed nothing."""
    database = urlsplit(pg_url).path.lstrip("/")
    pg_conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
    pg_conn.execute(f"CREATE ROLE {ROLE} LOGIN")
    pg_conn.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM PUBLIC')
    pg_conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    parts = urlsplit(pg_url)
    user = parts.netloc.split("@", 1)[0]
    yield urlunsplit(parts._replace(netloc=parts.netloc.replace(f"{user}@", f"{ROLE}@", 1)))
    pg_conn.execute(f"DROP OWNED BY {ROLE}")
    pg_conn.execute(f"DROP ROLE {ROLE}")


def _apply(url: str, tmp_path: Path):
    write_yaml(tmp_path, "schemas/tables/tags.yaml", TAGS)
    args = ("apply", "--pg", url, "--schemas", "schemas", "--auto-approve")
    return run_cli(*args, cwd=tmp_path)


def _error(r) -> str:
    return next(line for line in r.err.splitlines() if line.startswith("Error:"))


def test_no_create_on_the_database_names_the_grant(as_role, pg_url, tmp_path: Path) -> None:
    database = urlsplit(pg_url).path.lstrip("/")
    r = _apply(as_role, tmp_path)
    assert r.code == 1, r.text
    assert (
        f"role {ROLE} lacks CREATE on database {database}, which creating a schema needs "
        "(reconciler keeps its state in schema reconciler, created on first use, and dropped "
        f"data in reconciler_trash): GRANT CREATE ON DATABASE {database} TO {ROLE}, or run as "
        "the database owner, or have the owner create the schema for the role (CREATE SCHEMA "
        f"reconciler AUTHORIZATION {ROLE};"
    ) in _error(r)


def test_no_usage_on_the_state_schema_names_the_grant(as_role, pg_conn, tmp_path: Path) -> None:
    pg_conn.execute("CREATE SCHEMA reconciler")
    r = _apply(as_role, tmp_path)
    assert r.code == 1, r.text
    assert f"GRANT USAGE, CREATE ON SCHEMA reconciler TO {ROLE}" in _error(r)


def test_no_create_on_the_target_schema_names_the_grant(
    as_role, pg_url, pg_conn, tmp_path: Path
) -> None:
    database = urlsplit(pg_url).path.lstrip("/")
    pg_conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO {ROLE}')
    r = _apply(as_role, tmp_path)
    assert r.code == 1, r.text
    assert (
        f"The apply failed at pg.table.public.tags: role {ROLE} lacks USAGE or CREATE on schema "
        f"public: GRANT USAGE, CREATE ON SCHEMA public TO {ROLE}, or run as the schema owner."
    ) in _error(r)


def test_altering_a_table_of_another_owner_says_who_can(
    as_role, pg_url, pg_conn, tmp_path: Path
) -> None:
    database = urlsplit(pg_url).path.lstrip("/")
    pg_conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO {ROLE}')
    pg_conn.execute(f"GRANT CREATE ON SCHEMA public TO {ROLE}")
    pg_conn.execute("CREATE TABLE public.tags (id int)")  # owned by the test's superuser
    r = _apply(as_role, tmp_path)
    assert r.code == 1, r.text
    assert f"role {ROLE} does not own table tags, and only its owner may alter or drop it" in (
        _error(r)
    )


def test_a_state_schema_made_for_the_role_needs_no_create_on_the_database(
    as_role, pg_conn, tmp_path: Path
) -> None:
    """What the troubleshooting table advises: the owner creates schema reconciler for the role
    (CREATE SCHEMA … AUTHORIZATION), which may then apply without CREATE on the database
    (CREATE SCHEMA IF NOT EXISTS would still ask for it: it is not run when the schema exists)."""
    pg_conn.execute(f"CREATE SCHEMA reconciler AUTHORIZATION {ROLE}")
    pg_conn.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {ROLE}")
    r = _apply(as_role, tmp_path)
    assert r.code == 0, r.text
    assert "could not record" not in r.err, r.err  # the lock's note table was made too
    assert pg_conn.execute("SELECT to_regclass('public.tags')").fetchone() == ("tags",)
    assert pg_conn.execute("SELECT count(*) FROM reconciler.applies").fetchone() == (1,)


def test_a_role_that_may_not_read_the_state_still_plans_a_change(
    as_role, pg_url, pg_conn, tmp_path: Path
) -> None:
    """plan writes a plan whether or not the role may read the state (docs/reliability.md):
    the version is then not checked against applied ones, which apply does under its lock."""
    database = urlsplit(pg_url).path.lstrip("/")
    assert _apply(pg_url, tmp_path).code == 0  # the state schema exists, the role may not use it
    pg_conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO {ROLE}')  # for the probes
    write_yaml(tmp_path, "schemas/tables/tags.yaml", TAGS + "  - {name: label, type: text}\n")
    r = run_cli("plan", "--pg", as_role, "--schemas", "schemas", "--out", "plans", cwd=tmp_path)
    assert r.code == 0 and "label" in r.out, r.text
    assert list((tmp_path / "plans").glob("*.plan.json")), r.text
