"""--target: a plan limited to the changes some addresses name, with what they need first."""

from __future__ import annotations

import psycopg

from tests.helpers import run_cli, write_yaml

RUNS = """\
table: runs
columns:
  - {name: id, type: bigint, nullable: false}
  - {name: state, type: run_state}
primary_key: [id]
indexes:
  - columns: [state]
"""
USERS = "table: users\ncolumns: [{name: id, type: bigint, nullable: false}]\nprimary_key: [id]\n"
ENUM = "enums:\n  - name: run_state\n    values: [queued, done]\n"


def _schemas(tmp_path):
    root = tmp_path / "schemas"
    write_yaml(root, "tables/runs.yaml", RUNS)
    write_yaml(root, "tables/users.yaml", USERS)
    write_yaml(root, "types/run_state.yaml", ENUM)
    return root


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_targeted_apply_brings_what_the_target_needs_and_nothing_else(pg_url, tmp_path):
    schemas = _schemas(tmp_path)
    r = run_cli(
        "apply", "--pg", pg_url, "--schemas", str(schemas), "--auto-approve",
        "--target", "pg.table.public.runs", cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 0, r.text
    assert "pg.enum.public.run_state" in r.out  # needed first: the column's type
    assert "users" not in r.out and "idx_runs_state" not in r.out
    assert _tables(pg_url) == ["runs"]
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(schemas), "--out", str(tmp_path / "p"))
    assert "pg.table.public.users" in r.out and "idx_runs_state" in r.out  # left for later
    assert "pg.table.public.runs " not in r.out


def test_a_glob_target_and_several_targets(pg_url, tmp_path):
    schemas = _schemas(tmp_path)
    r = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(schemas), "--out", str(tmp_path / "p"),
        "--target", "pg.index.*", "--target", "pg.table.public.users", "--json",
    )  # fmt: skip
    assert r.code == 0, r.text
    import json

    addresses = [c["address"] for c in json.loads(r.out)["changes"]]
    assert "pg.index.public.idx_runs_state" in addresses and "pg.table.public.users" in addresses
    assert "pg.table.public.runs" in addresses  # the index needs its table


def test_a_target_that_names_nothing_says_so(pg_url, tmp_path):
    schemas = _schemas(tmp_path)
    r = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(schemas), "--target", "pg.table.public.nope"
    )
    assert r.code == 1 and "No planned change matches --target pg.table.public.nope" in r.err
    assert "has 4 changes" in r.err


def test_a_saved_plan_is_applied_whole(pg_url, tmp_path):
    schemas = _schemas(tmp_path)
    plans = tmp_path / "plans"
    assert run_cli("plan", "--pg", pg_url, "--schemas", str(schemas), "--out", str(plans)).code == 0
    (saved,) = plans.glob("*.plan.json")
    r = run_cli("apply", "--pg", pg_url, "--plan", str(saved), "--target", "pg.table.public.runs")
    assert r.code == 1 and "a saved plan is applied whole" in r.err
    assert _tables(pg_url) == []
