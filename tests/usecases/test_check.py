"""`reconciler check`: validation and lint, the plans directory's integrity, and every pending
plan tried (up, down, up) on a scratch copy of the live schema, on the session's real server.
Each planted fault must turn the exit code to 1 with a line naming it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import psycopg

from reconciler.plan.files import read_plan, write_plan
from tests.helpers import run_cli, write_yaml

ACCOUNTS = """
table: accounts
primary_key: [id]
columns:
  - {name: id, type: uuid, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
"""
BALANCE = "  - {name: balance, type: numeric, nullable: false, default: '0'}\n"


def _project(tmp_path: Path, pg_url: str) -> Path:
    """One applied plan (the table) and one pending plan (a new column)."""
    root = tmp_path / "schemas"
    write_yaml(root, "accounts.yaml", ACCOUNTS)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    write_yaml(root, "accounts.yaml", ACCOUNTS + BALANCE)
    r = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text
    return tmp_path / "plans"


def _plant(plans: Path, **fields: tuple[str, ...]) -> None:
    """Replace the pending plan by a consistent one (files and checksums agree) whose every
    change has `fields` (its up or down statements) instead."""
    plan = read_plan(sorted(plans.glob("*.plan.json"))[-1])
    for path in plans.glob(f"{plan.name}*"):
        path.unlink()
    changes = tuple(dataclasses.replace(c, **fields) for c in plan.changes)
    write_plan(dataclasses.replace(plan, changes=changes), plans)


def _check(tmp_path: Path, pg_url: str):
    return run_cli(
        "check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path
    )


def _scratch_databases(pg_conn: psycopg.Connection) -> list[str]:
    rows = pg_conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'reconciler_check_%'"
    ).fetchall()
    return [r[0] for r in rows]


def test_a_sound_project_passes(pg_url, pg_conn, tmp_path):
    _project(tmp_path, pg_url)
    before = _scratch_databases(pg_conn)

    r = _check(tmp_path, pg_url)

    assert r.code == 0, r.text
    assert "up, up again, down gives the schema back exactly" in r.out
    assert "after the pending plans the schema equals the desired state" in r.out
    assert "was made against the live catalog as it is now" in r.out
    assert _scratch_databases(pg_conn) == before  # the scratch copy is gone
    # the live database was only read: the pending plan is still pending
    columns = pg_conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts'"
    ).fetchone()
    assert columns == (3,)


def test_a_hand_edited_applied_plan_fails(pg_url, tmp_path):
    plans = _project(tmp_path, pg_url)
    applied = sorted(plans.glob("*_up.sql"))[0]
    applied.write_text(applied.read_text() + "\n-- tweaked by hand\n")

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert (
        f"{applied.name.removesuffix('_up.sql')}: its up file differs from the one applied" in r.out
    )
    assert "was edited after planning (checksum mismatch)" in r.out


def test_an_up_without_its_down_fails(pg_url, tmp_path):
    plans = _project(tmp_path, pg_url)
    pending_down = sorted(plans.glob("*_down.sql"))[-1]
    pending_down.unlink()

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert f"has no down file ({pending_down.name})" in r.out


def test_a_down_that_does_not_revert_fails(pg_url, tmp_path):
    plans = _project(tmp_path, pg_url)
    _plant(plans, down=("SELECT 1",))  # a down that forgets to drop the column

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert "the down file does not give the schema back" in r.out


def test_a_down_that_fails_is_reported(pg_url, tmp_path):
    plans = _project(tmp_path, pg_url)
    _plant(plans, down=("ALTER TABLE public.nowhere DROP COLUMN x",))

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert "the down file fails after its up" in r.out
    assert "nowhere" in r.out


def test_a_stale_pending_plan_fails(pg_url, pg_conn, tmp_path):
    _project(tmp_path, pg_url)
    pg_conn.execute("CREATE INDEX idx_accounts_created_at ON accounts (created_at)")

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert "was made against a catalog that has changed since" in r.out


def test_plans_that_do_not_reach_the_desired_state_fail(pg_url, tmp_path):
    _project(tmp_path, pg_url)
    write_yaml(
        tmp_path / "schemas", "accounts.yaml", ACCOUNTS + BALANCE + "  - {name: n, type: text}\n"
    )

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert "1 change would still be planned: pg.column.public.accounts.n" in r.out


def test_lint_errors_fail_and_warnings_are_notes(pg_url, tmp_path):
    _project(tmp_path, pg_url)
    write_yaml(
        tmp_path / "schemas",
        "accounts.yaml",
        ACCOUNTS.replace("type: uuid", "type: integer") + BALANCE,
    )

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert "[pk-uuid-id]" in r.out


def test_an_up_that_cannot_run_twice_fails(pg_url, tmp_path):
    plans = _project(tmp_path, pg_url)
    _plant(plans, up=("ALTER TABLE public.accounts ADD COLUMN balance numeric NOT NULL DEFAULT 0",))

    r = _check(tmp_path, pg_url)

    assert r.code == 1
    assert "the up file cannot run twice" in r.out
    assert 'column "balance" of relation "accounts" already exists' in r.out


def test_a_user_who_may_not_create_databases_gets_one_sentence(pg_url, pg_conn, tmp_path):
    import uuid

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    _project(tmp_path, pg_url)
    role = f"r_{uuid.uuid4().hex[:10]}"
    pg_conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB")
    pg_conn.execute(f"GRANT USAGE ON SCHEMA reconciler TO {role}")
    pg_conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA reconciler TO {role}")
    try:
        url = make_conninfo(**{**conninfo_to_dict(pg_url), "user": role})
        r = _check(tmp_path, url)
        assert r.code == 1
        assert "this user may not create databases" in r.err
        assert "Traceback" not in r.err
    finally:
        pg_conn.execute(f"DROP OWNED BY {role}")
        pg_conn.execute(f"DROP ROLE {role}")


def test_a_plans_directory_that_is_not_there_is_refused(pg_url, tmp_path):
    _project(tmp_path, pg_url)
    r = run_cli("check", "--pg", pg_url, "--plans", str(tmp_path / "typo"), cwd=tmp_path)
    assert r.code == 1 and "typo/ is not a directory of plans" in r.err, r.text


def test_an_excluded_schema_is_left_out_of_the_last_step_too(
    pg_url, pg_conn, tmp_path, monkeypatch
):
    """The pending plans are tried and then compared with the desired state under the scope
    the caller gave: a schema it leaves out is not 'left over' at the end."""
    from reconciler.api.check import check
    from reconciler.project.scope import Scope

    _project(tmp_path, pg_url)
    pg_conn.execute("CREATE SCHEMA legacy; CREATE TABLE legacy.old (id int)")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no reconciler.yaml anywhere: only the given scope counts
    report = check(pg_url, tmp_path / "schemas", tmp_path / "plans", scope=Scope(("legacy",)))
    failed = [f.message for f in report.findings if f.ok is False]
    assert report.ok, failed
