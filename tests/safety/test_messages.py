"""Bad options are one sentence before anything runs, and leave the database as it was."""

from __future__ import annotations

import psycopg
import pytest

from reconciler.state.postgres import PgState
from tests.helpers import run_cli, write_yaml

TABLE = """\
table: notes
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""


def _untouched(url: str) -> bool:
    """No table made and no apply recorded (the lock may have made the state's schema)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.notes')").fetchone()[0] is not None:
            return False
        return PgState(conn).history() == []


@pytest.mark.parametrize(
    "args, said",
    [
        (("--ddl-lock-timeout", "xyz"), "--ddl-lock-timeout 'xyz' is not a duration"),
        (("--statement-timeout", "-5"), "--statement-timeout '-5' is not a duration"),
        (("--out", "/proc/no/such/folder"), "The plan could not be written to /proc/no/such"),
        (("--lock-timeout", "-1"), "-1"),
    ],
    ids=["ddl-lock-timeout", "statement-timeout", "out", "lock-timeout"],
)
def test_a_bad_option_of_apply_is_refused_before_anything_runs(pg_url, tmp_path, args, said):
    write_yaml(tmp_path, "schemas/tables/notes.yaml", TABLE)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", *args,
                cwd=tmp_path)  # fmt: skip
    assert r.code == 1, r.text
    assert said in r.text and "Traceback" not in r.text and "unexpected" not in r.text, r.text
    assert _untouched(pg_url)


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--out", "/proc/no/such/folder"),
        ("backup", "--out", "/proc/no/such/folder"),
        ("state", "history", "--limit", "-1"),
    ],
    ids=["export", "backup", "history"],
)
def test_a_bad_path_or_number_is_one_sentence(pg_url, tmp_path, args):
    r = run_cli(*args, "--pg", pg_url, cwd=tmp_path)
    assert r.code == 1, r.text
    assert "Error" in r.text or "Invalid value" in r.text, r.text
    assert "unexpected" not in r.text and "Traceback" not in r.text and "LIMIT" not in r.text


def test_export_never_deletes_a_file_it_did_not_write(pg_url, tmp_path):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id bigint PRIMARY KEY)")
    out = tmp_path / "schemas"
    write_yaml(out, "tables/zz_handwritten.yaml", "# mine\n")
    write_yaml(out, "functions/f.yaml", "functions: []\n")
    write_yaml(out, "keys/app.yaml", "patterns: []\n")
    r = run_cli("export", "--pg", pg_url, "--out", str(out), cwd=tmp_path)
    assert r.code == 0, r.text
    assert (out / "tables" / "kept.yaml").exists() and (out / "keys" / "app.yaml").exists()
    assert "moved, not deleted" in r.out
    aside = sorted((tmp_path / ".schemas.replaced").rglob("*.yaml"))
    assert [p.name for p in aside] == ["f.yaml", "zz_handwritten.yaml"]
    assert (aside[1]).read_text() == "# mine\n"
    assert not list(tmp_path.glob(".schemas.export-*"))  # the staging folder is gone


def test_export_moves_aside_the_file_of_an_aggregate_dropped_since(pg_url, tmp_path):
    """Every part export writes is also one it cleans: an aggregate's file, like a table's,
    does not outlive the aggregate (left behind, the next plan would create it again)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id bigint PRIMARY KEY)")
        conn.execute("CREATE AGGREGATE public.total_of (bigint) (sfunc = int8pl, stype = bigint)")
    out = tmp_path / "schemas"
    first = run_cli("export", "--pg", pg_url, "--out", str(out), cwd=tmp_path)
    assert first.code == 0, first.text
    assert (out / "aggregates" / "total_of.yaml").exists(), sorted(out.rglob("*"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP AGGREGATE public.total_of (bigint)")
    again = run_cli("export", "--pg", pg_url, "--out", str(out), cwd=tmp_path)
    assert again.code == 0, again.text
    assert not (out / "aggregates" / "total_of.yaml").exists()
    aside = sorted((tmp_path / ".schemas.replaced").rglob("*.yaml"))
    assert [p.name for p in aside] == ["total_of.yaml"]
    plan = run_cli("plan", "--pg", pg_url, "--schemas", str(out), "--out", "p", cwd=tmp_path)
    assert plan.code == 0 and "No changes." in plan.out, plan.text
