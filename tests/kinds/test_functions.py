"""Functions and procedures from YAML: created before what calls them, compared in the
server's spelling, replaced in place, rolled back exactly, and their SQL pieces checked."""

from __future__ import annotations

import json

from tests.helpers import run_cli, write_yaml

FUNCTIONS = """
functions:
  - name: next_code
    schema: app
    returns: text
    language: sql
    body: SELECT 'c-' || md5(random()::text)
  - name: area
    schema: app
    arguments: "w int, h int default 2"
    returns: int
    language: sql
    volatility: immutable
    strict: true
    set: {search_path: "pg_catalog, public"}
    body: SELECT w * h
  - name: area
    schema: app
    arguments: "r numeric"
    returns: numeric
    language: sql
    volatility: immutable
    comment: Of a circle.
    body: SELECT pi() * r * r
  - name: touch
    schema: app
    returns: trigger
    language: plpgsql
    body: |
      BEGIN
        NEW.updated_at := now();  -- a $body$ inside the body is fine
        RETURN NEW;
      END
  - name: reset_codes
    schema: app
    kind: procedure
    arguments: "n integer"
    language: plpgsql
    body: BEGIN PERFORM n; END
"""

TABLE = """
table: notes
schema: app
columns:
  - {name: id, type: integer, nullable: false}
  - {name: code, type: text, default: app.next_code()}
  - {name: updated_at, type: timestamptz}
primary_key: [id]
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_functions_apply_replan_replace_and_roll_back(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "functions/app.yaml", FUNCTIONS)
    write_yaml(root, "tables/notes.yaml", TABLE)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    assert order.index('pg.function.app.next_code.""') < order.index("pg.table.app.notes")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO app.notes (id) VALUES (1)")
    assert pg_conn.execute("SELECT app.area(3), app.area(1.0) > 3").fetchone() == (6, True)
    assert pg_conn.execute("SELECT code LIKE 'c-%' FROM app.notes").fetchone() == (True,)
    # `int` and `default 2` come back as `integer` and `DEFAULT 2`: the server was asked
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    before = pg_dump_schema(pg_url)

    write_yaml(root, "functions/app.yaml", FUNCTIONS.replace("SELECT w * h", "SELECT w * h * 1"))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    changes = json.loads(r.out)["changes"]
    assert [(c["action"], c["address"]) for c in changes] == [
        ("change", 'pg.function.app.area."integer, integer"')
    ]
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'area' AND pronargs = 2")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_sql_pieces_of_a_function_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "functions/bad.yaml",
        "functions:\n"
        "  - name: a\n"
        "    arguments: \"x int) RETURNS int LANGUAGE sql AS 'x'; DROP TABLE t; --\"\n"
        "    returns: int\n"
        "    language: sql\n"
        "    body: SELECT 1\n"
        "  - name: b\n"
        "    returns: int; DROP TABLE t\n"
        "    language: sql\n"
        "    body: SELECT 1\n"
        "  - name: c\n"
        "    returns: int\n"
        "    language: sql\n"
        '    set: {search_path: "public; DROP TABLE t"}\n'
        "    body: SELECT 1\n"
        "  - name: d\n"
        "    language: sql\n"
        "    body: SELECT 1\n"
        "  - name: e\n"
        "    returns: integer SECURITY DEFINER\n"
        "    language: sql\n"
        "    body: SELECT 1\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    for line in (3, 8, 14, 16, 20):
        assert f"functions/bad.yaml:{line}" in r.err, r.err
    assert "needs `returns`" in r.err


def test_an_sql_standard_body_is_exactly_one_return_or_atomic_block(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "functions/bad.yaml",
        "functions:\n"
        "  - name: a\n"
        "    returns: int\n"
        "    language: sql\n"
        "    body: RETURN 1; DROP TABLE t\n"
        "  - name: b\n"
        "    returns: int\n"
        "    language: sql\n"
        "    body: |\n"
        "      BEGIN ATOMIC\n"
        "        SELECT 1;\n"
        "      END; DROP TABLE t\n"
        "  - name: c\n"
        "    returns: int\n"
        "    language: sql\n"
        "    body: RETURN (1\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    for line in (5, 9, 16):
        assert f"functions/bad.yaml:{line}" in r.err, r.err
    assert "exactly one `RETURN expression`" in r.err


SQL_BODIES = """
functions:
  - name: plus
    arguments: "a int, b int"
    returns: int
    language: sql
    volatility: immutable
    body: return a + b  -- the server's own text is (a + b)
  - name: plus_three
    schema: app
    arguments: "a int"
    returns: int
    language: sql
    volatility: immutable
    body: |
      -- a comment first: still an SQL-standard body
      BEGIN ATOMIC
        SELECT plus(plus(a, 1), 2);
      END
"""


def test_sql_standard_bodies_are_compared_in_the_servers_spelling(pg_url, pg_conn, tmp_path):
    """Written as a person writes them (unqualified names resolved as the apply resolves
    them, no parentheses, a comment), created callee first, and a second plan is empty."""
    root = tmp_path / "schemas"
    write_yaml(root, "functions/app.yaml", SQL_BODIES)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    assert order.index('pg.function.public.plus."integer, integer"') < order.index(
        "pg.function.app.plus_three.integer"
    )
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("SELECT app.plus_three(1)").fetchone() == (4,)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
