"""A column type change that would change live values is destructive, found on the rows.

`USING col::type` is an explicit cast, and an explicit cast truncates and rounds where it can:
varchar(5) keeps five characters, numeric(10,0) drops the decimals, date the time of day. So
the plan tries each conversion on the live values: one that changes some is a `destructive`
hazard naming the column and how many values change (refused without --allow-destructive);
one that fails on a value is refused at plan time; values that survive, or no rows at all,
need no flag.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

NARROW = """\
table: prices
primary_key: [id]
columns:
  - {name: id, type: int, nullable: false}
  - {name: code, type: varchar(5)}
  - {name: amount, type: "numeric(10,0)"}
  - {name: at, type: date}
"""
WIDE = (
    NARROW.replace("varchar(5)", "text")
    .replace('"numeric(10,0)"', '"numeric(12,4)"')
    .replace("type: date", "type: timestamptz")
)


def _apply(tmp_path: Path, pg_url: str, yaml: str, *flags: str):
    write_yaml(tmp_path, "schemas/tables/prices.yaml", yaml)
    return run_cli(
        "apply", "--pg", pg_url, "--schemas", "schemas", "--out", "plans", "--auto-approve",
        *flags, cwd=tmp_path,
    )  # fmt: skip


def _plan(tmp_path: Path, pg_url: str, yaml: str):
    write_yaml(tmp_path, "schemas/tables/prices.yaml", yaml)
    return run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "plans", cwd=tmp_path)


def _rows(pg_url: str) -> list[tuple[str, ...]]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        query = "SELECT id::text, code, amount::text, at::text FROM prices ORDER BY id"
        return conn.execute(query).fetchall()


def _wide_with(tmp_path: Path, pg_url: str, *rows: str) -> None:
    assert _apply(tmp_path, pg_url, NARROW).code == 0
    assert _apply(tmp_path, pg_url, WIDE).code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for row in rows:
            conn.execute(f"INSERT INTO prices VALUES {row}")


def test_narrowing_that_changes_values_is_destructive(tmp_path: Path, pg_url: str) -> None:
    _wide_with(tmp_path, pg_url, "(1, 'abcdefghij', 12.3456, '2026-01-01 13:45+00')")
    before = _rows(pg_url)
    plan = _plan(tmp_path, pg_url, NARROW)
    assert plan.code == 0, plan.text
    hazards = [" ".join(line.split()) for line in plan.out.splitlines() if "! destructive" in line]
    for column, old, new in [
        ("code", "text", "character varying(5)"),
        ("amount", "numeric(12,4)", "numeric(10,0)"),
        ("at", "timestamp with time zone", "date"),
    ]:
        assert any(
            f"prices.{column}: type {old} → {new} changes 1 existing value of {column}" in h
            for h in hazards
        ), plan.out
    assert "fails on values that do not convert" not in plan.out

    refused = _apply(tmp_path, pg_url, NARROW)
    assert refused.code == 1, refused.text
    assert "--allow-destructive" in refused.text
    assert "Traceback" not in refused.text
    assert _rows(pg_url) == before

    done = _apply(tmp_path, pg_url, NARROW, "--allow-destructive")
    assert done.code == 0, done.text
    assert _rows(pg_url) == [("1", "abcde", "12", "2026-01-01")]


def test_values_that_survive_a_narrowing_need_no_flag(tmp_path: Path, pg_url: str) -> None:
    _wide_with(tmp_path, pg_url, "(1, 'abc', 12.0000, NULL)", "(2, NULL, NULL, NULL)")
    plan = _plan(tmp_path, pg_url, NARROW)
    assert plan.code == 0, plan.text
    assert "destructive" not in plan.out, plan.out
    assert "every value the table holds now converts back unchanged" in plan.out
    done = _apply(tmp_path, pg_url, NARROW)
    assert done.code == 0, done.text
    assert _rows(pg_url) == [("1", "abc", "12", None), ("2", None, None, None)]


def test_a_conversion_that_fails_on_a_value_is_refused_at_plan_time(
    tmp_path: Path, pg_url: str
) -> None:
    _wide_with(tmp_path, pg_url, "(1, '42', NULL, NULL)", "(2, 'x1', NULL, NULL)")
    yaml = WIDE.replace("{name: code, type: text}", "{name: code, type: int}")
    written = sorted((tmp_path / "plans").glob("*"))
    r = _plan(tmp_path, pg_url, yaml)
    assert r.code == 1, r.text
    assert "Traceback" not in r.text
    assert "Column public.prices.code cannot change type text → integer" in r.text, r.text
    assert "prices.yaml:5" in r.text, r.text
    assert sorted((tmp_path / "plans").glob("*")) == written
    assert _rows(pg_url)[1][1] == "x1"


def test_an_empty_table_narrows_without_a_flag(tmp_path: Path, pg_url: str) -> None:
    _wide_with(tmp_path, pg_url)
    plan = _plan(tmp_path, pg_url, NARROW)
    assert "every value the table holds now converts back unchanged" in plan.out, plan.out
    done = _apply(tmp_path, pg_url, NARROW)
    assert done.code == 0, done.text
    assert "destructive" not in done.out
