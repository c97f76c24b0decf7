"""SQL smuggled into names, comments and expressions is refused or stays inert data."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

NAMES = [
    'x"; DROP TABLE victims; --',
    "x'); DROP TABLE victims; --",
    "robert'); DELETE FROM victims;--",
    "a$$; DROP TABLE victims; $$",
    "ends with \\",
    "tab\tand\nnewline",
    "semi;colon",
    "/* comment */ name",
]


def _catalog(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relkind::text, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        ).fetchall()
    return set(rows)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_names_and_comments_are_applied_as_inert_data(name, pg_url, tmp_path):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE victims (id int PRIMARY KEY)")
    doc = {
        "tables": [
            {
                "table": "victims",
                "columns": [{"name": "id", "type": "integer"}],
                "primary_key": {"name": "victims_pkey", "columns": ["id"]},
                "lint": {
                    "ignore": [{"rule": r, "reason": "test"} for r in ("pk-uuid-id", "timestamps")]
                },
            },
            {
                "table": name,
                "comment": name,
                "columns": [{"name": name, "type": "text", "comment": name}],
            },
        ]
    }
    write_yaml(tmp_path, "s/tables/t.yaml", json.dumps(doc))  # JSON is YAML
    before = _catalog(pg_url)
    r = run_cli(
        "apply", "--pg", pg_url, "--schemas", str(tmp_path / "s"), "--auto-approve", cwd=tmp_path
    )
    assert r.code == 0, r.text
    after = _catalog(pg_url)
    assert after - before == {("r", name)}  # exactly the declared table, nothing else
    assert ("r", "victims") in after
    with psycopg.connect(pg_url) as conn:
        got = conn.execute(
            "SELECT obj_description(c.oid), a.attname, col_description(c.oid, a.attnum) "
            "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1 "
            "WHERE c.relname = %s",
            (name,),
        ).fetchone()
    assert got == (name, name, name)
    again = run_cli(
        "plan",
        "--pg",
        pg_url,
        "--schemas",
        str(tmp_path / "s"),
        "--detailed-exitcode",
        "--out",
        str(tmp_path / "p"),
        cwd=tmp_path,
    )
    assert again.code == 0 and "No changes." in again.out, again.text


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("default", "1); DROP TABLE victims; --"),
        ("default", "(SELECT 1); DROP TABLE victims"),
        ("generated", "1) STORED; DROP TABLE victims; --"),
        ("type", "integer; DROP TABLE victims"),
        ("type", "text) ; DROP TABLE victims; --"),
    ],
)
def test_hostile_expressions_are_refused_before_any_connection(key, text, tmp_path):
    column = {"name": "c", "type": "integer", key: text}
    write_yaml(tmp_path, "s/tables/t.yaml", json.dumps({"table": "things", "columns": [column]}))
    r = run_cli(
        "plan",
        "--pg",
        "postgresql://nobody@127.0.0.1:1/none",
        "--schemas",
        str(tmp_path / "s"),
        cwd=tmp_path,
    )
    assert r.code == 1
    assert "t.yaml:1" in r.err and "Cannot connect" not in r.err
